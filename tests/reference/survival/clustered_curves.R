# Cluster-robust (by care home) reference values for the survival curves, from R's survival
# package. Run from the repository root: Rscript tests/reference/survival/clustered_curves.R
# Input: data.csv (make_data.py, seeded). Output: clustered_aj.csv, clustered_km.csv,
# clustered_rmst.csv and clustered_versions.txt beside this script.
#
# survfit(..., id = resident_id, influence = TRUE) gives each resident's infinitesimal-
# jackknife influence on the estimate at every time (multi-state: influence.pstate, whose
# first column is time 0; KM: influence.surv). Summed within care home (rowsum), the
# cluster-robust variance is the column sum of the squared home sums. (In survival 3.5 the
# cluster= argument of a multi-state survfit does not change std.err, hence the sums here.)
# The unclustered IJ standard error, sqrt(colSums(influence^2)), is written beside it.
suppressPackageStartupMessages(library(survival))
here <- "tests/reference/survival"
d <- read.csv(file.path(here, "data.csv"), stringsAsFactors = FALSE)
d$state <- factor(d$status, 0:2, labels = c("censor", "emergency_admission", "death"))
wr <- function(x, name) write.csv(x, file.path(here, name), row.names = FALSE)
z <- qnorm(0.975)
home_sums <- function(infl, s) rowsum(infl, s$care_home_id[match(rownames(infl), s$resident_id)])

aj_out <- km_out <- rmst_out <- NULL
for (cm in sort(unique(d$care_model))) {
  s <- d[d$care_model == cm, ]
  aj <- survfit(Surv(time, state) ~ 1, data = s, id = resident_id, influence = TRUE)
  for (ev in c("emergency_admission", "death")) {
    k <- match(ev, aj$states)
    infl <- aj$influence.pstate[, -1, k]  # drop the time-0 column
    se_cl <- sqrt(colSums(home_sums(infl, s)^2))
    est <- aj$pstate[, k]
    aj_out <- rbind(aj_out, data.frame(care_model = cm, event = ev, time = aj$time,
      estimate = est, std_err_ij = sqrt(colSums(infl^2)), std_err_cluster = se_cl,
      conf_low = ifelse(est > 0, est * exp(-z * se_cl / est), NA),
      conf_high = ifelse(est > 0, pmin(1, est * exp(z * se_cl / est)), NA),
      n_homes = length(unique(s$care_home_id))))
  }
  km <- survfit(Surv(time, status == 2) ~ 1, data = s, id = resident_id, influence = TRUE)
  infl <- km$influence.surv
  se_cl <- sqrt(colSums(home_sums(infl, s)^2))
  km_out <- rbind(km_out, data.frame(care_model = cm, time = km$time, estimate = km$surv,
    std_err_ij = sqrt(colSums(infl^2)), std_err_cluster = se_cl,
    conf_low = ifelse(km$surv > 0, km$surv * exp(-z * se_cl / km$surv), NA),
    conf_high = ifelse(km$surv > 0, pmin(1, km$surv * exp(z * se_cl / km$surv)), NA)))
  # RMST to 365: the area's influence is the influence of S times the width of each step
  tau <- 365
  keep <- km$time <= tau
  width <- diff(c(km$time[keep], tau))
  rinfl <- infl[, keep, drop = FALSE] %*% width
  rmst_out <- rbind(rmst_out, data.frame(care_model = cm, rmst_horizon_days = tau,
    rmst = summary(km, rmean = tau)$table[["rmean"]],
    rmst_se_ij = sqrt(sum(rinfl^2)), rmst_se_cluster = sqrt(sum(home_sums(rinfl, s)^2))))
}
wr(aj_out, "clustered_aj.csv")
wr(km_out, "clustered_km.csv")
wr(rmst_out, "clustered_rmst.csv")
writeLines(c(R.version.string, paste("survival", packageVersion("survival"))),
  file.path(here, "clustered_versions.txt"))
