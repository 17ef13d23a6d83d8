# Reference small-sample inference for tests/test_rates_small_sample.py.
# Run from this folder: Rscript reference_small_sample.R  (reads cohort.csv; writes
# reference_small_sample.csv and versions_small_sample.txt).
# For each fit of reference.R (outcome x model x adjustment x exposure) and for a few-home
# subset (the first 2 homes of each care model: 6 homes), crude and adjusted:
#  * clubSandwich::coef_test(fit, vcov = "CR2", cluster = dd$care_home_id,
#    test = "Satterthwaite") and conf_int(..., level = 0.95): SE, df, p-value, CI;
#  * sandwich::vcovCL(fit, cluster = ~care_home_id, type = "HC1") SE (glm.nb: theta known).
suppressPackageStartupMessages({library(MASS); library(sandwich); library(clubSandwich)})
d <- read.csv("cohort.csv", stringsAsFactors = FALSE)
d$care_model <- relevel(factor(d$care_model), ref = "usual_care")
d$dementia <- as.numeric(d$dementia == "True")
d$nursing <- as.numeric(d$nursing == "True")
d$sex_M <- as.numeric(d$sex == "M")
homes <- unique(d[order(d$care_home_id), c("care_home_id", "care_model")])
few <- unlist(lapply(split(homes$care_home_id, homes$care_model), function(h) sort(h)[1:2]))
ctl <- glm.control(epsilon = 1e-12, maxit = 200)
rename <- function(x) sub("^care_model", "", x)
rows <- list()
for (subset in c("all", "few_homes")) {
  ds <- if (subset == "all") d else d[d$care_home_id %in% few, ]
  for (exposure in c("person_years", "days_at_risk")) {
    ds$years <- if (exposure == "person_years") ds$person_years else ds$days_at_risk / 365.25
    for (adjustment in c("crude", "adjusted")) {
      f <- if (adjustment == "crude") "~ care_model" else
        "~ care_model + age + sex_M + dementia + nursing + barthel"
      dd <- if (adjustment == "crude") ds else ds[complete.cases(ds$barthel), ]
      for (outcome in c("emergency_admission", "ae")) {
        form <- as.formula(paste(outcome, f, "+ offset(log(years))"))
        # Poisson refitted from its own estimate: glm() returns the IWLS weights (and so the
        # bread) of the iteration before the last; restarting at the estimate puts them there.
        fit0 <- glm(form, family = poisson, data = dd, control = ctl)
        fits <- list(poisson = glm(form, family = poisson, data = dd, control = ctl,
                                   start = coef(fit0)),
                     negbin = glm.nb(form, data = dd, control = ctl))
        for (model in names(fits)) {
          fit <- fits[[model]]
          ct <- coef_test(fit, vcov = "CR2", cluster = dd$care_home_id, test = "Satterthwaite")
          ci <- conf_int(fit, vcov = "CR2", cluster = dd$care_home_id, level = 0.95)
          v1 <- vcovCL(fit, cluster = ~care_home_id, type = "HC1")
          rows[[length(rows) + 1]] <- data.frame(
            subset = subset, outcome = outcome, model = model, adjustment = adjustment,
            exposure = exposure, term = rename(names(coef(fit))), estimate = unname(coef(fit)),
            std_error_cr1 = sqrt(diag(v1)), std_error_cr2 = ct$SE, df_satterthwaite = ct$df_Satt,
            p_value_cr2 = ct$p_Satt, conf_low_cr2 = ci$CI_L, conf_high_cr2 = ci$CI_U,
            alpha = if (model == "negbin") 1 / fit$theta else NA, n = nobs(fit),
            n_clusters = length(unique(dd$care_home_id)))
        }
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, "reference_small_sample.csv", row.names = FALSE)
writeLines(c(R.version.string,
             paste("MASS", as.character(packageVersion("MASS"))),
             paste("sandwich", as.character(packageVersion("sandwich"))),
             paste("clubSandwich", as.character(packageVersion("clubSandwich")))),
           "versions_small_sample.txt")
