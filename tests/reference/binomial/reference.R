# Exact binomial (Clopper-Pearson) intervals from R's binom.test, the reference
# for tests/test_outcomes_binomial.py. Run from this folder:
#   Rscript reference.R
cases <- data.frame(
  x = c(0, 1, 3, 5, 7, 10, 12, 0, 20, 37, 50, 199, 1, 999),
  n = c(10, 10, 10, 5, 23, 40, 12, 1, 20, 101, 100, 400, 1000, 1000)
)
levels <- c(0.95, 0.90)
out <- do.call(rbind, lapply(levels, function(lv) {
  do.call(rbind, lapply(seq_len(nrow(cases)), function(i) {
    ci <- binom.test(cases$x[i], cases$n[i], conf.level = lv)$conf.int
    data.frame(x = cases$x[i], n = cases$n[i], level = lv,
               conf_low = ci[1], conf_high = ci[2])
  }))
}))
write.csv(out, "binom_test.csv", row.names = FALSE)
writeLines(c(R.version.string, "stats (base) binom.test"), "versions.txt")
