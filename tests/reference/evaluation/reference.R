# Reference values for tests/test_evaluation_reference.py (run from this folder: Rscript reference.R).
# Reads panel.csv (make_panel.py); writes reference_estimates.csv, reference_cells.csv, versions.txt.
# Every model: glm(poisson) with factor(home) + factor(month) dummies and offset(log(person_years)),
# covariance sandwich::vcovCL(fit, cluster = ~home, type = "HC0", cadjust = TRUE), i.e. G/(G-1) x
# the HC0 cluster sandwich. Intervals: log estimate +- qt(0.975, G - 1) x SE.
#  * etwfe: one dummy per switched (group, cohort, month) cell; cells without events pooled within
#    (group, cohort); per group the rate ratio sum(mu) / sum(mu * exp(-tau)) over switched cells,
#    delta-method SE with the counterfactual weights held fixed.
#  * etwfe_adjusted: etwfe + z_home x 1(month >= 4), z = centred log((events + 0.5) / person_years)
#    in months 0-3 (a baseline-rate x after term).
#  * event study (window 3): never-switched homes as controls, switched homes' rows with
#    e = month - cohort in [-3, 3], one dummy per (group, cohort, e), e != -1, cells without events
#    left out; aggregated over cohorts per (group, e) as above; pre-trend F = Wald / q on e <= -2,
#    p from F(q, G - 1).
#  * before_after: switched homes of each group only, factor(home) + after indicator.
#  * pre_period: switched homes' rows 3 months before switching vs never-switched homes' rows in
#    those calendar months; factor(month) + switched indicator, no home effects.
suppressPackageStartupMessages(library(sandwich))
d <- read.csv("panel.csv")
ctl <- glm.control(epsilon = 1e-13, maxit = 100)
vc <- function(fit, cl) vcovCL(fit, cluster = cl, type = "HC0", cadjust = TRUE)
refit <- function(form, data) {  # restart at the estimate so glm's weights are those at the MLE
  f <- glm(form, family = poisson, data = data, control = ctl)
  glm(form, family = poisson, data = data, control = ctl, start = coef(f))
}
out <- list()
add <- function(quantity, group, e, value) out[[length(out) + 1]] <<- data.frame(
  quantity = quantity, group = group, e = e, value = value)
G <- length(unique(d$home))

aggregate_cells <- function(fit, data, cellvar, aggvar, V) {
  cells <- sort(unique(data[[cellvar]][!is.na(data[[cellvar]])]))
  nm <- paste0("c", cells)
  tau <- coef(fit)[nm]
  mu <- fitted(fit)
  fitted_c <- tapply(mu[!is.na(data[[cellvar]])], data[[cellvar]][!is.na(data[[cellvar]])], sum)[as.character(cells)]
  w0 <- fitted_c * exp(-tau)
  agg <- tapply(data[[aggvar]][!is.na(data[[cellvar]])], data[[cellvar]][!is.na(data[[cellvar]])], function(v) v[1])[as.character(cells)]
  res <- list()
  for (a in sort(unique(agg))) {
    s <- agg == a
    est <- log(sum(fitted_c[s]) / sum(w0[s]))
    g <- setNames(rep(0, length(coef(fit))), names(coef(fit)))
    g[nm[s]] <- fitted_c[s] / sum(fitted_c[s])
    res[[length(res) + 1]] <- list(agg = a, est = est, grad = g)
  }
  res
}

# ---- ETWFE -------------------------------------------------------------------------------
d$switched <- d$cohort >= 0 & d$month >= d$cohort
d$cell <- ifelse(d$switched, paste(d$group, d$cohort, d$month), NA)
tot <- tapply(d$y, d$cell, sum)
zero <- !is.na(d$cell) & tot[d$cell] == 0
d$cell[zero] <- paste(d$group[zero], d$cohort[zero], "pool")
d$cell_id <- as.integer(factor(d$cell))
for (k in sort(unique(na.omit(d$cell_id)))) d[[paste0("c", k)]] <- as.numeric(!is.na(d$cell_id) & d$cell_id == k)
cellnames <- paste0("c", sort(unique(na.omit(d$cell_id))))
d$grp_of_cell <- d$group
base <- d$month <= 3
z <- log((tapply(d$y[base], d$home[base], sum) + 0.5) / tapply(d$person_years[base], d$home[base], sum))
d$z_after <- (z - mean(z))[as.character(d$home)] * (d$month >= 4)
for (variant in c("etwfe", "etwfe_adjusted")) {
  rhs <- paste(c(cellnames, if (variant == "etwfe_adjusted") "z_after"), collapse = " + ")
  form <- as.formula(paste("y ~", rhs, "+ factor(home) + factor(month) + offset(log(person_years))"))
  fit <- refit(form, d)
  V <- vc(fit, d$home)
  for (k in cellnames) add(paste0(variant, "_coef"), NA, as.integer(sub("c", "", k)), unname(coef(fit)[k]))
  for (k in cellnames) add(paste0(variant, "_cell_se"), NA, as.integer(sub("c", "", k)), sqrt(V[k, k]))
  if (variant == "etwfe_adjusted") {
    add("etwfe_adjusted_z_coef", NA, NA, unname(coef(fit)["z_after"]))
    add("etwfe_adjusted_z_se", NA, NA, sqrt(V["z_after", "z_after"]))
  }
  d$cellv <- d$cell_id
  for (r in aggregate_cells(fit, d, "cellv", "grp_of_cell", V)) {
    se <- sqrt(drop(t(r$grad) %*% V %*% r$grad))
    add(paste0(variant, "_log_rr"), r$agg, NA, r$est)
    add(paste0(variant, "_se"), r$agg, NA, se)
    add(paste0(variant, "_conf_low"), r$agg, NA, exp(r$est - qt(0.975, G - 1) * se))
    add(paste0(variant, "_p_value"), r$agg, NA, 2 * pt(-abs(r$est / se), G - 1))
  }
}
write.csv(unique(d[!is.na(d$cell), c("cell", "cell_id", "group", "cohort")]), "reference_cells.csv", row.names = FALSE)

# ---- event study -------------------------------------------------------------------------
L <- 3
d$e <- ifelse(d$cohort >= 0, d$month - d$cohort, NA)
es <- d[d$cohort < 0 | (d$e >= -L & d$e <= L), ]
es$cell <- ifelse(es$cohort >= 0 & es$e != -1, paste(es$group, es$cohort, es$e), NA)
tot <- tapply(es$y, es$cell, sum)
es <- es[is.na(es$cell) | tot[es$cell] > 0, ]
es$cell_id <- as.integer(factor(es$cell))
ids <- sort(unique(na.omit(es$cell_id)))
for (k in ids) es[[paste0("c", k)]] <- as.numeric(!is.na(es$cell_id) & es$cell_id == k)
es$agg <- es$group * 100 + es$e
form <- as.formula(paste("y ~", paste0("c", ids, collapse = " + "),
                         "+ factor(home) + factor(month) + offset(log(person_years))"))
fit <- refit(form, es)
V <- vc(fit, es$home)
Ges <- length(unique(es$home))
aggs <- aggregate_cells(fit, es, "cell_id", "agg", V)
for (r in aggs) {
  grp <- round(r$agg / 100); e <- r$agg - 100 * grp
  add("event_log_rr", grp, e, r$est)
  add("event_se", grp, e, sqrt(drop(t(r$grad) %*% V %*% r$grad)))
}
for (grp in c(0, 1)) {
  sel <- Filter(function(r) { g <- round(r$agg / 100); g == grp && r$agg - 100 * g <= -2 }, aggs)
  b <- sapply(sel, function(r) r$est)
  Gm <- t(sapply(sel, function(r) r$grad))
  Vb <- Gm %*% V %*% t(Gm)
  f <- drop(t(b) %*% solve(Vb, b)) / length(b)
  add("pre_trend_f", grp, NA, f)
  add("pre_trend_p", grp, NA, pf(f, length(b), Ges - 1, lower.tail = FALSE))
}

# ---- before-after and pre-period ratio ---------------------------------------------------
for (grp in c(0, 1)) {
  s <- d[d$group == grp, ]
  s$after <- as.numeric(s$month >= s$cohort)
  fit <- refit(y ~ after + factor(home) + offset(log(person_years)), s)
  add("before_after_log_rr", grp, NA, unname(coef(fit)["after"]))
  add("before_after_se", grp, NA, sqrt(vc(fit, s$home)["after", "after"]))
}
sw <- d$cohort >= 0 & d$month < d$cohort & d$month >= d$cohort - 3
pp <- d[sw | (d$cohort < 0 & d$month %in% unique(d$month[sw])), ]
pp$switched_home <- as.numeric(pp$cohort >= 0)
fit <- refit(y ~ switched_home + factor(month) + offset(log(person_years)), pp)
add("pre_period_log_rr", NA, NA, unname(coef(fit)["switched_home"]))
add("pre_period_se", NA, NA, sqrt(vc(fit, pp$home)["switched_home", "switched_home"]))

res <- do.call(rbind, out)
write.csv(res, "reference_estimates.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("sandwich", as.character(packageVersion("sandwich")))),
           "versions.txt")
