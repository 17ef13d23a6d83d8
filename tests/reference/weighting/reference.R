# Reference values for the propensity-score weighting code (tests/test_weighting_*.py).
# Run from this folder: Rscript reference.R  (reads data.csv, writes the CSVs below and versions.txt).
#   multinom.csv  nnet::multinom(care_model ~ covariates) at tight tolerance, then polished by
#                 Newton steps on the exact score/Hessian (nnet's BFGS stops short of the MLE)
#   weights.csv   propensity scores, generalised overlap weights (Li & Li 2019), IPW, stabilised IPW
#   smd.csv       crude and overlap-weighted means and SMDs (SD denominator from the unweighted groups)
#   weighted.csv  weighted Poisson (glm + sandwich::vcovCL HC1), weighted NB (MASS::glm.nb +
#                 vcovCL HC1, theta as known), weighted cause-specific Cox (coxph weights + cluster),
#                 weighted Fine-Gray (finegray(weights =) + coxph(weights = fgwt, cluster))
#   aj.csv        weighted Aalen-Johansen by care model (survfit weights =, influence = TRUE): std_error
#                 cluster-robust IJ (influence x weight summed by care home), std_error_iid R's std.err
#   regions.csv   adjusted Poisson log rate ratio within each region with two care models (vcovCL HC1)
#   meta.csv      metafor::rma(yi, sei = se, method = "REML") (tight threshold) + predict(): tau2,
#                 I2, pooled estimate, se, CI and 95% prediction interval
suppressPackageStartupMessages({
  library(nnet); library(MASS); library(sandwich); library(survival); library(metafor)
})
d <- read.csv("data.csv", stringsAsFactors = FALSE)
d <- d[complete.cases(d$barthel), ]
d$care_model <- relevel(factor(d$care_model), ref = "usual_care")
d$sex_M <- as.numeric(d$sex == "M")
levels_cm <- levels(d$care_model)                     # usual_care, dedicated_team, paid_gp
form <- care_model ~ age + sex_M + dementia + nursing + barthel
fit <- multinom(form, data = d, Hess = TRUE, trace = FALSE, maxit = 10000,
                reltol = 1e-16, abstol = 1e-300)
X <- model.matrix(~ age + sex_M + dementia + nursing + barthel, d)
Y <- sapply(levels_cm, function(l) as.numeric(d$care_model == l))
B <- t(coef(fit))                                     # p x (K-1)
probs <- function(B) { e <- cbind(1, exp(X %*% B)); e / rowSums(e) }
nnet_B <- B
for (it in 1:20) {                                    # Newton polish: score X'(Y - P), Hessian blocks
  P <- probs(B); K1 <- ncol(B); p <- ncol(X)
  g <- as.vector(crossprod(X, Y[, -1] - P[, -1]))
  H <- matrix(0, p * K1, p * K1)
  for (a in 1:K1) for (b in 1:K1) {
    wab <- P[, a + 1] * ((a == b) - P[, b + 1])
    H[(a - 1) * p + 1:p, (b - 1) * p + 1:p] <- crossprod(X * wab, X)
  }
  step <- solve(H, g)
  B <- B + matrix(step, p, K1)
  if (max(abs(step)) < 1e-13) break
}
V <- solve(H)
mn <- data.frame(class = rep(levels_cm[-1], each = ncol(X)), term = rep(colnames(X), ncol(B)),
                 estimate = as.vector(B), std_error = sqrt(diag(V)),
                 nnet_estimate = as.vector(nnet_B),
                 nnet_std_error = sqrt(diag(solve(fit$Hessian))))
write.csv(mn, "multinom.csv", row.names = FALSE)

P <- probs(B); colnames(P) <- levels_cm
z <- as.integer(d$care_model)
e_own <- P[cbind(seq_len(nrow(P)), z)]
w_ov <- (1 / e_own) / rowSums(1 / P)
w_ipw <- 1 / e_own
w_stab <- as.vector(prop.table(table(z))[z]) / e_own
wt <- data.frame(resident_id = d$resident_id, ps_usual_care = P[, 1], ps_dedicated_team = P[, 2],
                 ps_paid_gp = P[, 3], w_overlap = w_ov, w_ipw = w_ipw, w_ipw_stabilised = w_stab)
write.csv(wt, "weights.csv", row.names = FALSE)

covs <- c("age", "sex_M", "dementia", "nursing", "barthel"); binary <- c(FALSE, TRUE, TRUE, TRUE, FALSE)
smd <- list()
for (j in seq_along(covs)) for (m in levels_cm[-1]) {
  x <- d[[covs[j]]]; a <- d$care_model == m; r <- d$care_model == "usual_care"
  sd2 <- function(s) if (binary[j]) mean(x[s]) * (1 - mean(x[s])) else var(x[s])
  den <- sqrt((sd2(a) + sd2(r)) / 2)
  mw <- function(s) sum(w_ov[s] * x[s]) / sum(w_ov[s])
  smd[[length(smd) + 1]] <- data.frame(covariate = covs[j], care_model = m,
    mean_crude = mean(x[a]), mean_crude_ref = mean(x[r]), mean_weighted = mw(a),
    mean_weighted_ref = mw(r), smd_crude = (mean(x[a]) - mean(x[r])) / den,
    smd_weighted = (mw(a) - mw(r)) / den)
}
write.csv(do.call(rbind, smd), "smd.csv", row.names = FALSE)

rows <- list()
add <- function(model, weights, est, se) rows[[length(rows) + 1]] <<- data.frame(
  model = model, weights = weights, term = sub("^care_model", "", names(est)),
  estimate = unname(est), std_error = unname(se))
ctl <- glm.control(epsilon = 1e-14, maxit = 200)
for (wn in c("overlap", "ipw")) {
  d$w <- if (wn == "overlap") w_ov else w_ipw
  f <- suppressWarnings(glm(emergency_admission ~ care_model + offset(log(person_years)),
                            family = poisson, weights = w, data = d, control = ctl))
  add("poisson", wn, coef(f), sqrt(diag(vcovCL(f, cluster = ~care_home_id, type = "HC1"))))
  f <- suppressWarnings(glm.nb(emergency_admission ~ care_model + offset(log(person_years)),
                               weights = w, data = d, control = ctl))
  add("negbin", wn, coef(f), sqrt(diag(vcovCL(f, cluster = ~care_home_id, type = "HC1"))))
  rows[[length(rows)]]$theta <- f$theta
  f <- coxph(Surv(time, status == 1) ~ care_model, weights = w, cluster = care_home_id,
             data = d, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 50))
  add("cox", wn, coef(f), sqrt(diag(f$var)))
  d$fstatus <- factor(d$status, 0:2, c("censor", "admission", "death"))
  fg <- finegray(Surv(time, fstatus) ~ ., data = d, etype = "admission", weights = w)
  f <- coxph(Surv(fgstart, fgstop, fgstatus) ~ care_model, weights = fgwt, cluster = care_home_id,
             data = fg, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 50))
  add("finegray", wn, coef(f), sqrt(diag(f$var)))
}
out <- do.call(rbind, lapply(rows, function(r) { if (is.null(r$theta)) r$theta <- NA; r }))
write.csv(out, "weighted.csv", row.names = FALSE)

aj <- list()
d$w <- w_ov
for (m in levels_cm) {
  s <- d[d$care_model == m, ]
  # A multi-state survfit ignores cluster= for std.err (as in ../survival/clustered_curves.R), so the
  # clustered IJ is built from influence.pstate (dF/dw_i, first column time 0): sum_h (sum_i w_i U_i)^2.
  # std.err itself is the unclustered weighted IJ, sqrt(sum_i (w_i U_i)^2).
  sf <- survfit(Surv(time, factor(status, 0:2)) ~ 1, data = s, weights = w, id = resident_id,
                influence = TRUE)
  wi <- s$w[match(rownames(sf$influence.pstate), s$resident_id)]
  hi <- s$care_home_id[match(rownames(sf$influence.pstate), s$resident_id)]
  for (k in 1:2) {
    infl <- sf$influence.pstate[, -1, k + 1] * wi
    aj[[length(aj) + 1]] <- data.frame(care_model = m, cause = k, time = sf$time,
      estimate = sf$pstate[, k + 1], std_error = sqrt(colSums(rowsum(infl, hi)^2)),
      std_error_iid = sf$std.err[, k + 1])
  }
}
write.csv(do.call(rbind, aj), "aj.csv", row.names = FALSE)

reg <- list()
for (r in sort(unique(d$region))) {
  s <- d[d$region == r, ]
  s$care_model <- droplevels(s$care_model)
  if (nlevels(s$care_model) < 2 || !("usual_care" %in% levels(s$care_model))) next
  f <- glm(emergency_admission ~ care_model + age + sex_M + dementia + nursing + barthel +
             offset(log(person_years)), family = poisson, data = s, control = ctl)
  v <- vcovCL(f, cluster = ~care_home_id, type = "HC1")
  tm <- grep("^care_model", names(coef(f)), value = TRUE)
  reg[[length(reg) + 1]] <- data.frame(region = r, term = sub("^care_model", "", tm),
    estimate = unname(coef(f)[tm]), std_error = sqrt(unname(diag(v)[tm])))
}
reg <- do.call(rbind, reg)
write.csv(reg, "regions.csv", row.names = FALSE)
meta <- list()
for (tm in unique(reg$term)) {
  s <- reg[reg$term == tm, ]
  if (nrow(s) < 2) next
  m <- rma(yi = s$estimate, sei = s$std_error, method = "REML",
           control = list(threshold = 1e-14, maxiter = 10000))
  p <- predict(m)
  meta[[length(meta) + 1]] <- data.frame(term = tm, k = nrow(s), tau2 = m$tau2, i2 = m$I2,
    estimate = as.numeric(m$beta), std_error = m$se, conf_low = m$ci.lb, conf_high = m$ci.ub,
    pi_low = p$pi.lb, pi_high = p$pi.ub, q = m$QE)
}
write.csv(do.call(rbind, meta), "meta.csv", row.names = FALSE)
# a fixed meta-analysis example with clear heterogeneity (yi, vi as metafor's dat.bcg-like values)
yi <- c(-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02)
vi <- c(0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06, 0.07, 0.01, 0.53, 0.07)
m <- rma(yi = yi, vi = vi, method = "REML", control = list(threshold = 1e-14, maxiter = 10000))
p <- predict(m)
m0 <- rma(yi = yi, vi = vi, method = "REML")
p0 <- predict(m0)
write.csv(data.frame(setting = c("tight", "default"), tau2 = c(m$tau2, m0$tau2),
                     i2 = c(m$I2, m0$I2), estimate = c(m$beta, m0$beta), std_error = c(m$se, m0$se),
                     pi_low = c(p$pi.lb, p0$pi.lb), pi_high = c(p$pi.ub, p0$pi.ub), q = c(m$QE, m0$QE)),
          "meta_example.csv", row.names = FALSE)
writeLines(c(R.version.string,
             sapply(c("nnet", "MASS", "sandwich", "survival", "metafor"),
                    function(p) paste(p, packageVersion(p)))), "versions.txt")
