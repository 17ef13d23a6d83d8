# Reference rate-model estimates for tests/test_rates_models.py.
# Run from this folder: Rscript reference.R  (reads cohort.csv, writes reference_estimates.csv
# and versions.txt). Poisson: glm(offset = log(exposure)) + sandwich::vcovCL(type = "HC1").
# Negative binomial: MASS::glm.nb (theta by ML) + sandwich::vcovCL(type = "HC1"), which treats
# theta as known (glm-type estfun and bread for the regression coefficients only).
suppressPackageStartupMessages({library(MASS); library(sandwich)})
d <- read.csv("cohort.csv", stringsAsFactors = FALSE)
d$care_model <- relevel(factor(d$care_model), ref = "usual_care")
d$dementia <- as.numeric(d$dementia == "True")
d$nursing <- as.numeric(d$nursing == "True")
d$sex_M <- as.numeric(d$sex == "M")
ctl <- glm.control(epsilon = 1e-12, maxit = 200)
rename <- function(x) sub("^care_model", "", x)
rows <- list()
for (exposure in c("person_years", "days_at_risk")) {
  d$years <- if (exposure == "person_years") d$person_years else d$days_at_risk / 365.25
  for (adjustment in c("crude", "adjusted")) {
    f <- if (adjustment == "crude") "~ care_model" else "~ care_model + age + sex_M + dementia + nursing + barthel"
    dd <- if (adjustment == "crude") d else d[complete.cases(d$barthel), ]
    for (outcome in c("emergency_admission", "ae")) {
      form <- as.formula(paste(outcome, f, "+ offset(log(years))"))
      fits <- list(poisson = glm(form, family = poisson, data = dd, control = ctl),
                   negbin = glm.nb(form, data = dd, control = ctl))
      for (model in names(fits)) {
        fit <- fits[[model]]
        v <- vcovCL(fit, cluster = ~care_home_id, type = "HC1")
        theta <- if (model == "negbin") fit$theta else NA
        rows[[length(rows) + 1]] <- data.frame(
          outcome = outcome, model = model, adjustment = adjustment, exposure = exposure,
          term = rename(names(coef(fit))), estimate = unname(coef(fit)),
          std_error = sqrt(diag(v)), alpha = 1 / theta, n = nobs(fit),
          n_clusters = length(unique(dd$care_home_id)))
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "reference_estimates.csv", row.names = FALSE)
writeLines(c(R.version.string,
             paste("MASS", as.character(packageVersion("MASS"))),
             paste("sandwich", as.character(packageVersion("sandwich")))), "versions.txt")
