# Reference values for tests/test_survival_reference.py, from R's survival package.
# Run from the repository root: Rscript tests/reference/survival/reference.R
# Input: tests/reference/survival/data.csv (written by make_data.py, seeded).
# Output: the CSV files beside this script, and versions.txt.
suppressPackageStartupMessages(library(survival))
here <- "tests/reference/survival"
d <- read.csv(file.path(here, "data.csv"), stringsAsFactors = FALSE)
d$care_model <- relevel(factor(d$care_model), ref = "usual_care")
d$sex <- factor(d$sex, levels = c("F", "M"))
d$state <- factor(d$status, 0:2, labels = c("censor", "emergency_admission", "death"))
wr <- function(x, name) write.csv(x, file.path(here, name), row.names = FALSE)
tight <- coxph.control(eps = 1e-14, iter.max = 100, toler.chol = 1e-15)

# --- Aalen-Johansen (multi-state survfit; IJ standard errors, log CI) -------
aj <- survfit(Surv(time, state) ~ care_model, data = d)
s <- summary(aj, censored = TRUE)
cm <- sub("care_model=", "", as.character(s$strata))
out <- NULL
colnames(s$pstate) <- colnames(s$std.err) <- colnames(s$lower) <- colnames(s$upper) <- aj$states
for (ev in c("emergency_admission", "death")) {
  out <- rbind(out, data.frame(care_model = cm, event = ev, time = s$time,
    estimate = s$pstate[, ev], std_err = s$std.err[, ev],
    conf_low = s$lower[, ev], conf_high = s$upper[, ev], n_at_risk = s$n.risk[, 1]))
}
wr(out, "aj.csv")

# --- Kaplan-Meier of all-cause death (died = status 2 or death after admission
# is not in these data: here 'death' means status == 2) ---------------------
km <- survfit(Surv(time, status == 2) ~ care_model, data = d)
sk <- summary(km, censored = TRUE)
wr(data.frame(care_model = sub("care_model=", "", as.character(sk$strata)), time = sk$time,
  estimate = sk$surv, std_err = sk$std.err, conf_low = sk$lower, conf_high = sk$upper,
  n_at_risk = sk$n.risk), "km.csv")
tab <- summary(km, rmean = 365)$table
wr(data.frame(care_model = sub("care_model=", "", rownames(tab)), n = tab[, "records"],
  events = tab[, "events"], rmst = tab[, "rmean"], rmst_se = tab[, "se(rmean)"],
  median = tab[, "median"], median_low = tab[, "0.95LCL"], median_high = tab[, "0.95UCL"]),
  "km_summary.csv")

# --- Cox and Fine-Gray --------------------------------------------------------
adj <- ~ care_model + age + sex + dementia + nursing + barthel
crude <- ~ care_model
cc <- d[complete.cases(d[, c("age", "sex", "dementia", "nursing", "barthel")]), ]
tidy <- function(fit, outcome, model, adjustment) {
  data.frame(outcome = outcome, model = model, adjustment = adjustment,
    term = names(coef(fit)), estimate = unname(coef(fit)),
    robust_se = sqrt(diag(fit$var)), naive_se = sqrt(diag(fit$naive.var)),
    n = fit$n, n_events = fit$nevent, loglik = fit$loglik[2])
}
res <- NULL
zph <- NULL
for (adjustment in c("crude", "adjusted")) {
  f <- if (adjustment == "crude") crude else adj
  dd <- if (adjustment == "crude") d else cc
  for (outcome in c("emergency_admission", "death")) {
    code <- if (outcome == "emergency_admission") 1 else 2
    fit <- coxph(update(f, Surv(time, status == code) ~ .), data = dd, ties = "efron",
      cluster = care_home_id, control = tight)
    res <- rbind(res, tidy(fit, outcome, "cox", adjustment))
    for (tr in c("km", "identity")) {
      z <- cox.zph(fit, transform = tr)
      zph <- rbind(zph, data.frame(outcome = outcome, adjustment = adjustment, transform = tr,
        term = rownames(z$table), chisq = z$table[, "chisq"], df = z$table[, "df"],
        p = z$table[, "p"]))
    }
  }
  fg <- finegray(Surv(time, state) ~ ., data = dd, etype = "emergency_admission")
  fit <- coxph(update(f, Surv(fgstart, fgstop, fgstatus) ~ .), data = fg, weights = fgwt,
    cluster = care_home_id, ties = "efron", control = tight)
  res <- rbind(res, tidy(fit, "emergency_admission", "fine_gray", adjustment))
}
wr(res, "cox.csv")
wr(zph, "zph.csv")

# per-resident score residuals of the adjusted cause-specific model (checks ties handling)
fit <- coxph(Surv(time, status == 1) ~ care_model + age + sex + dementia + nursing + barthel,
  data = cc, ties = "efron", control = tight)
sr <- residuals(fit, type = "score")
wr(data.frame(resident_id = cc$resident_id, sr), "score_residuals.csv")

writeLines(c(R.version.string, paste("survival", packageVersion("survival"))),
  file.path(here, "versions.txt"))
