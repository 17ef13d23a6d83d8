# Reference values for the Fine-Gray model with censoring estimated within region
# (tests/test_finegray_region.py). Run from the repository root:
#   Rscript tests/reference/survival/finegray_strata.R
# Input: finegray_strata_data.csv (make_finegray_strata_data.py, seeded; no tied times).
# Output: finegray_strata.csv and finegray_strata_versions.txt beside this script.
#
# Rows (method):
#  crr_cengroup   cmprsk::crr(..., cengroup = region): the estimator. se_model =
#                 sqrt(diag(solve(fit$inf))) (inverse information, comparable with our
#                 model-based cov); se_crr = sqrt(diag(fit$var)), crr's own sandwich
#                 (includes the variability of the estimated G_r, not clustered: NOT
#                 comparable with our clustered std_error; stored for the record).
#  crr_pooled     crr without cengroup (one G for everyone): the old estimator.
#  expanded_coxph the same estimator written out as counting-process rows (a competing-event
#                 resident gets one row per later admission time t_j, weight
#                 G_r(t_j-)/G_r(T_i-)), coxph(..., weights, cluster = care_home_id, Efron):
#                 se_robust is the care-home-clustered sandwich, se_model the naive SE.
#  finegray_strata finegray(... + strata(region)) then an unstratified weighted coxph: NOT
#                 this estimator (shown to document the difference).
suppressPackageStartupMessages({library(survival); library(cmprsk)})
here <- "tests/reference/survival"
d <- read.csv(file.path(here, "finegray_strata_data.csv"), stringsAsFactors = FALSE)
stopifnot(!anyDuplicated(d$time))
X <- as.matrix(d[, c("treated", "age")])
out <- NULL
add <- function(method, coef, se_model = NA, se_robust = NA, se_crr = NA, loglik = NA) {
  out <<- rbind(out, data.frame(method = method, term = colnames(X), estimate = unname(coef),
    se_model = se_model, se_robust = se_robust, se_crr = se_crr, loglik = loglik))
}
fit <- crr(d$time, d$status, X, cengroup = d$region, failcode = 1, cencode = 0,
  gtol = 1e-10, maxiter = 100)
add("crr_cengroup", fit$coef, sqrt(diag(solve(fit$inf))), se_crr = sqrt(diag(fit$var)),
  loglik = fit$loglik)
fit0 <- crr(d$time, d$status, X, failcode = 1, cencode = 0, gtol = 1e-10, maxiter = 100)
add("crr_pooled", fit0$coef, sqrt(diag(solve(fit0$inf))), se_crr = sqrt(diag(fit0$var)),
  loglik = fit0$loglik)

# the same estimator as explicit weighted rows
gminus <- function(region, t) {
  s <- survfit(Surv(time, status == 0) ~ 1, data = d[d$region == region, ])
  c(1, s$surv)[findInterval(t, s$time, left.open = TRUE) + 1]
}
uft <- sort(unique(d$time[d$status == 1]))
rows <- list()
for (i in seq_len(nrow(d))) {
  later <- uft[uft > d$time[i]]
  if (d$status[i] != 2 || length(later) == 0) {
    rows[[i]] <- data.frame(id = i, start = 0, stop = d$time[i], ev = d$status[i] == 1, w = 1)
  } else {
    w <- gminus(d$region[i], later) / gminus(d$region[i], d$time[i])
    rows[[i]] <- data.frame(id = i, start = c(0, d$time[i], head(later, -1)),
      stop = c(d$time[i], later), ev = FALSE, w = c(1, w))
  }
}
e <- do.call(rbind, rows)
e <- cbind(e, d[e$id, c("treated", "age", "care_home_id")])
e <- e[e$w > 0, ]
tight <- coxph.control(eps = 1e-14, iter.max = 100, toler.chol = 1e-15)
fe <- coxph(Surv(start, stop, ev) ~ treated + age, data = e, weights = w,
  cluster = care_home_id, ties = "efron", control = tight)
add("expanded_coxph", coef(fe), sqrt(diag(fe$naive.var)), sqrt(diag(fe$var)),
  loglik = fe$loglik[2])

d$state <- factor(d$status, 0:2, labels = c("censor", "admission", "death"))
fg <- finegray(Surv(time, state) ~ treated + age + care_home_id + strata(region), data = d,
  etype = "admission")
ff <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treated + age, data = fg, weights = fgwt,
  cluster = care_home_id, ties = "efron", control = tight)
add("finegray_strata", coef(ff), sqrt(diag(ff$naive.var)), sqrt(diag(ff$var)),
  loglik = ff$loglik[2])

write.csv(out, file.path(here, "finegray_strata.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survival", packageVersion("survival")),
  paste("cmprsk", packageVersion("cmprsk"))), file.path(here, "finegray_strata_versions.txt"))
