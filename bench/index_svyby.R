# R survey's svyby of the satisfaction index (the mean over items of each item's share),
# the reference both bench_analysis.py and bench_results.py time against.
#   Rscript index_svyby.R DATA.csv OUT.csv GROUP DESIGN THRESHOLD
# DATA.csv: one row a respondent, `stratum`, GROUP, `weight` or `N`, items q*; DESIGN is
# `weights` (weights = ~weight) or `fpc` (fpc = ~N); an item counts as satisfied when its
# value is >= THRESHOLD (1 for items given already as 0/1 indicators). Prints R_SECONDS.
suppressMessages({library(survey); library(data.table)})
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
group <- args[3]; design <- args[4]; threshold <- as.numeric(args[5])
d <- as.data.frame(fread(args[1]))
items <- grep("^q", names(d), value = TRUE)
for (q in items) {
  d[[paste0("a_", q)]] <- ifelse(is.na(d[[q]]), 0, as.numeric(d[[q]] >= threshold))
  d[[paste0("b_", q)]] <- as.numeric(!is.na(d[[q]]))
  d[[q]] <- NULL
}
invisible(gc())
num <- paste0("a_", items); den <- paste0("b_", items)
f <- as.formula(paste("~", paste(c(num, den), collapse = "+")))
expr <- parse(text = paste(sprintf("%s/%s", num, den), collapse = "+"))[[1]]
expr <- call("/", expr, length(items))
index <- function(formula, design, ...) svycontrast(svytotal(formula, design), expr)
t0 <- proc.time()[["elapsed"]]
# check.strata = FALSE: the nesting check tabulates ids x strata (1e6 x 2000 cells, ~16 GB);
# every respondent is its own PSU here, so nesting holds by construction.
des <- if (design == "fpc") {
  svydesign(id = ~1, strata = ~stratum, fpc = ~N, data = d, check.strata = FALSE)
} else {
  svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = d, check.strata = FALSE)
}
res <- svyby(f, as.formula(paste0("~", group)), des, index, vartype = "se", keep.var = TRUE)
elapsed <- proc.time()[["elapsed"]] - t0
out <- data.frame(group = res[[group]], estimate = coef(res), se = SE(res))
names(out)[1] <- group
fwrite(out, args[2])
cat(sprintf("R_SECONDS %.3f\n", elapsed))
