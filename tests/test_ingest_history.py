"""The optional care_model_history table: each rule's failure names file, line, column, value."""

import pandas as pd
import pytest

from optimal_analysis.ingest import check_failures, ingest_history
from optimal_analysis.ingest.quality import InputDataError

CARE_MODELS = ["dedicated_team", "paid_gp", "usual_care"]


def _combined():
    homes = pd.DataFrame({"region": "north", "care_home_id": ["CH1", "CH2", "CH3"]})
    residents = pd.DataFrame({"region": "north", "resident_id": ["R1", "R2", "R3"],
                              "care_home_id": ["CH1", "CH2", "CH3"],
                              "entry_date": pd.to_datetime(["2020-01-10", "2020-02-01",
                                                            "2020-01-05"])})
    return homes, residents


def _run(tmp_path, text):
    (tmp_path / "north").mkdir()
    (tmp_path / "north" / "care_model_history.csv").write_text(text)
    homes, residents = _combined()
    return ingest_history({"north": tmp_path / "north"}, homes, residents,
                          care_models=CARE_MODELS)


def test_valid_history_is_used(tmp_path):
    history, failures = _run(tmp_path, "care_home_id,care_model,start_date\n"
                                       "CH1,usual_care,2020-01-01\n"
                                       "CH1,dedicated_team,2020-06-15\n")
    assert len(failures) == 0
    assert history["care_model"].tolist() == ["usual_care", "dedicated_team"]
    assert history["start_date"].tolist() == [pd.Timestamp("2020-01-01"),
                                               pd.Timestamp("2020-06-15")]
    assert set(history["region"]) == {"north"}


def test_every_rule_names_file_line_column_value(tmp_path):
    history, failures = _run(tmp_path, "care_home_id,care_model,start_date\n"
                                       "CH9,usual_care,2020-01-01\n"       # line 2: unknown home
                                       "CH1,usual_care,2020-01-01\n"       # lines 3-4: same start
                                       "CH1,paid_gp,2020-01-01\n"
                                       "CH2,usual_care,2020-03-01\n"       # line 5: after entry
                                       "CH2,paid_gp,2020-05-01\n"          # line 6: same home
                                       "CH3,new_model,2020-01-01\n"        # line 7: unknown model
                                       "CH3,usual_care,2020-13-01\n")      # line 8: bad date
    f = failures.set_index("line")
    assert set(f["file"]) == {"north/care_model_history.csv"}
    assert f.loc[2, "problem"] == "unknown_care_home" and f.loc[2, "value"] == "CH9"
    assert f.loc[3, "problem"] == f.loc[4, "problem"] == "duplicate_start"
    assert "lines 3, 4" in f.loc[3, "message"]
    assert f.loc[5, "problem"] == "history_starts_late" and f.loc[5, "column"] == "start_date"
    assert "2020-03-01" in f.loc[5, "message"] and "2020-02-01" in f.loc[5, "message"]
    assert f.loc[7, "problem"] == "unknown_code" and f.loc[7, "value"] == "new_model"
    assert f.loc[8, "problem"] == "invalid_date" and f.loc[8, "column"] == "start_date"
    assert 6 not in f.index  # set aside with its home, not a failure of its own
    assert len(history) == 0  # nothing usable is left
    with pytest.raises(InputDataError, match="break the data contract"):
        check_failures(failures, on_invalid="stop", failures_file="history_failures.csv")
    assert "set aside" in check_failures(failures, on_invalid="exclude",
                                         failures_file="history_failures.csv")


def test_no_file_no_history_and_missing_column_is_fatal(tmp_path):
    (tmp_path / "north").mkdir()
    homes, residents = _combined()
    history, failures = ingest_history({"north": tmp_path / "north"}, homes, residents,
                                       care_models=CARE_MODELS)
    assert len(history) == 0 and len(failures) == 0
    (tmp_path / "north" / "care_model_history.csv").write_text("care_home_id,start_date\n")
    _, failures = ingest_history({"north": tmp_path / "north"}, homes, residents,
                                 care_models=CARE_MODELS)
    assert failures["problem"].tolist() == ["missing_column"]
    assert failures["severity"].tolist() == ["fatal"]
