# Reference values of the cost GLM (src/optimal_analysis/stats/cost_glm.py).
# Prior weights = person-years (so the care-model-only fit is the ratio estimator of costs.csv).
# Run from this folder: Rscript reference.R  -> reference_estimates.csv, versions.txt
suppressPackageStartupMessages(library(sandwich))
d <- read.csv("cohort.csv", stringsAsFactors = FALSE)
d$care_model <- factor(d$care_model, levels = c("usual_care", "dedicated_team", "paid_gp"))
d$sex_male <- as.integer(d$sex == "male")
f <- cost_gbp ~ care_model + age + sex_male + dementia + offset(log(person_years))
ctl <- glm.control(epsilon = 1e-14, maxit = 200)

rows <- list()
add <- function(fit_name, dd, fit) {
  V <- vcovCL(fit, cluster = ~care_home_id, type = "HC1", cadjust = TRUE)
  b <- coef(fit)
  rows[[length(rows) + 1]] <<- data.frame(fit = fit_name, term = names(b), estimate = unname(b),
                                          std_error = sqrt(diag(V)))
  # Standardised means per care model (weights = person-years) and differences, delta method.
  X_at <- function(level) {
    nd <- dd
    nd$care_model <- factor(level, levels = levels(dd$care_model))
    model.matrix(~ care_model + age + sex_male + dementia, nd)
  }
  w <- dd$person_years
  Xr <- X_at("usual_care")
  pr <- exp(drop(Xr %*% b))
  for (lev in c("dedicated_team", "paid_gp")) {
    Xs <- X_at(lev)
    ps <- exp(drop(Xs %*% b))
    ms <- sum(w * ps) / sum(w)
    mr <- sum(w * pr) / sum(w)
    g <- (colSums(w * ps * Xs) - colSums(w * pr * Xr)) / sum(w)
    se <- sqrt(drop(t(g) %*% V %*% g))
    rows[[length(rows) + 1]] <<- data.frame(
      fit = fit_name, term = paste0(c("mean_", "mean_ref_", "diff_"), lev),
      estimate = c(ms, mr, ms - mr), std_error = c(NA, NA, se))
  }
}
# glm stops on the relative change of the deviance (quadratic near the optimum), so the
# coefficients are only good to ~sqrt(epsilon): refit from the estimate until it is stable.
polish <- function(fit) {
  for (k in 1:5) fit <- update(fit, start = coef(fit))
  fit
}
fit_q <- polish(glm(f, family = quasi(link = "log", variance = "mu^2"), data = d,
                    weights = person_years, control = ctl))
add("quasi_all", d, fit_q)
pos <- d[d$cost_gbp > 0, ]
fit_g <- polish(glm(f, family = Gamma(link = "log"), data = pos, weights = person_years,
                    control = ctl))
add("gamma_positive", pos, fit_g)
out <- do.call(rbind, rows)
write.csv(out, "reference_estimates.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("sandwich", packageVersion("sandwich")),
             paste("quasi converged:", fit_q$converged, "iterations", fit_q$iter),
             paste("Gamma converged:", fit_g$converged, "iterations", fit_g$iter)),
           "versions.txt")
