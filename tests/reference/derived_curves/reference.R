# Cluster-robust (by care home) Aalen-Johansen reference values for a derived outcome's
# curves (time to first avoidable emergency admission, death competing), from R's survival
# package, as tests/reference/survival/clustered_curves.R does for emergency admission.
# Run from the repository root: Rscript tests/reference/derived_curves/reference.R
# Input: data.csv (make_data.py). Output: aj.csv and versions.txt beside this script.
suppressPackageStartupMessages(library(survival))
here <- "tests/reference/derived_curves"
d <- read.csv(file.path(here, "data.csv"), stringsAsFactors = FALSE)
name <- "avoidable_emergency_admission"
d$state <- factor(d$status, 0:2, labels = c("censor", name, paste0("death_before_", name)))
z <- qnorm(0.975)
home_sums <- function(infl, s) rowsum(infl, s$care_home_id[match(rownames(infl), s$resident_id)])
out <- NULL
for (cm in sort(unique(d$care_model))) {
  s <- d[d$care_model == cm, ]
  aj <- survfit(Surv(time, state) ~ 1, data = s, id = resident_id, influence = TRUE)
  for (ev in levels(d$state)[-1]) {
    k <- match(ev, aj$states)
    infl <- aj$influence.pstate[, -1, k]  # drop the time-0 column
    se_cl <- sqrt(colSums(home_sums(infl, s)^2))
    est <- aj$pstate[, k]
    out <- rbind(out, data.frame(care_model = cm, event = ev, time = aj$time,
      estimate = est, std_err_cluster = se_cl,
      conf_low = ifelse(est > 0, est * exp(-z * se_cl / est), NA),
      conf_high = ifelse(est > 0, pmin(1, est * exp(z * se_cl / est)), NA),
      n_event = aj$n.event[, k], n_homes = length(unique(s$care_home_id))))
  }
}
write.csv(out, file.path(here, "aj.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survival", packageVersion("survival"))),
  file.path(here, "versions.txt"))
