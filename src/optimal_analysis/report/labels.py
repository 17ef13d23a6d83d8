"""The reader's words for codes: service codes, cost items, table columns.

Codes stay in the published tables (they are an interface); the report shows these
labels instead. An unknown code is shown readable (underscores as spaces).
"""

from __future__ import annotations

__all__ = ["SERVICE_LABELS", "service_label"]

#: Service codes of the data contract and cost items, as a reader would name them.
SERVICE_LABELS = {
    "gp_surgery": "GP surgery consultation",
    "gp_visit": "GP home visit",
    "gp_phone": "GP telephone consultation",
    "practice_nurse": "Practice nurse",
    "district_nurse": "District nurse",
    "community_matron": "Community matron",
    "care_home_team": "Care home team visit",
    "geriatrician": "Geriatrician",
    "mental_health": "Mental health (old age psychiatry)",
    "physiotherapy": "Physiotherapy",
    "occupational_therapy": "Occupational therapy",
    "speech_therapy": "Speech and language therapy",
    "dietitian": "Dietitian",
    "podiatry": "Podiatry",
    "pharmacist": "Pharmacist medication review",
    "out_of_hours": "Out-of-hours GP",
    "ambulance": "Ambulance call-out",
    "ae": "A&E attendance",
    "outpatient": "Outpatient attendance",
    "emergency_admission": "Emergency admission",
    "elective_admission": "Elective admission",
    "emergency_bed_day": "Emergency bed days",
    "elective_bed_day": "Elective bed days",
    "all": "All contacts",
    "total": "Total",
}


def service_label(code: str) -> str:
    """The reader's name of a service code or cost item ("ae" -> "A&E attendance")."""
    return SERVICE_LABELS.get(str(code), str(code).replace("_", " ").capitalize())
