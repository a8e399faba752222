# Reference values for tests/analysis from R's `survey` package.
#
# Run from the repository root:  Rscript tests/reference/make_reference.R
# Writes (next to this script): apistrat.csv, apiclus1.csv, apiclus2.csv (the data sets
# shipped with survey), synthetic.csv + synthetic_totals.csv (a generated satisfaction
# survey), rake120.csv + rake120_totals.csv (120 strata, raking margins), and r_reference.csv
# (one row per estimate: case, domain, estimate, se, df, deff,
# ci_low, ci_high). Columns a case does not check are NA.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = FALSE)
script <- sub("--file=", "", args[grep("--file=", args)])
out_dir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
out <- function(name) file.path(out_dir, name)

rows <- list()
emit <- function(case, domain, est, se = NA, df = NA, deff = NA, lo = NA, hi = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, domain = as.character(domain), estimate = as.numeric(est),
    se = as.numeric(se), df = as.numeric(df), deff = as.numeric(deff),
    ci_low = as.numeric(lo), ci_high = as.numeric(hi))
}
stat <- function(case, domain, m, df = NA) {
  d <- attr(m, "deff")
  emit(case, domain, coef(m)[1], SE(m)[1], df, if (is.null(d)) NA else d[1])
}
ciprop <- function(case, domain, f, des) {
  for (method in c("xlogit", "logit", "beta", "mean")) {
    p <- svyciprop(f, des, method = method)
    ci <- attr(p, "ci")
    emit(paste0(case, ":", method), domain, p[1], sqrt(attr(p, "var")), degf(des), NA, ci[1], ci[2])
  }
}

# Korn-Graubard interval of the NCHS data presentation standard for proportions (Parker et al.
# 2017), transcribed from the F-distribution formulas of the NCHS SAS macro
# calculate_KornGraubard_CIs (v2.0): p of 0 or 1 uses n_eff = n and a one-sided interval;
# otherwise n_eff = p(1-p)/se^2, df-adjusted and truncated at n. df <= 0: the limit t_df -> inf
# (n_eff = 0, interval [0, 1]), as CDC's surveytable::svyciprop_adjusted.
nchs_kg <- function(p, se, df, n, level = 0.95) {
  a <- 1 - level
  if (abs(p - round(p)) < 1e-12) p <- round(p)  # the macro's fuzz(): 1 - 1e-16 counts as 1
  if (p == 0 || p == 1) {
    m <- n
  } else {
    t_adj <- if (df > 0) (qt(1 - a / 2, n - 1) / qt(1 - a / 2, df))^2 else 0
    m <- min(n, p * (1 - p) / se^2 * t_adj)
  }
  x <- p * m
  lo <- if (x == 0) 0 else 1 / (1 + (m - x + 1) / (x * qf(a / 2, 2 * x, 2 * (m - x + 1))))
  hi <- if (x == m) 1 else 1 / (1 + (m - x) / ((x + 1) * qf(1 - a / 2, 2 * (x + 1), 2 * (m - x))))
  c(lo, hi)
}
nchs_ref <- function(case, des, var) {
  for (k in sort(unique(des$variables$agency))) {
    dk <- subset(des, agency == k & !is.na(des$variables[[var]]))
    m <- svymean(as.formula(paste0("~", var)), dk)
    p <- coef(m)[[1]]
    se <- SE(m)[[1]]
    ci <- nchs_kg(p, se, degf(dk), nrow(dk))
    emit(paste0(case, ":nchs"), k, p, se, degf(dk), NA, ci[1], ci[2])
  }
}

# ---- (a) the api data sets -------------------------------------------------------------
data(api)
write.csv(apistrat, out("apistrat.csv"), row.names = FALSE)
write.csv(apiclus1, out("apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2, out("apiclus2.csv"), row.names = FALSE)

ds <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
stat("strat_mean_api00", "", svymean(~api00, ds, deff = TRUE), degf(ds))
stat("strat_total_enroll", "", svytotal(~enroll, ds, deff = TRUE), degf(ds))
stat("strat_ratio_api_stu_enroll", "", svyratio(~api.stu, ~enroll, ds), degf(ds))
for (k in levels(apistrat$stype)) {
  dk <- subset(ds, stype == k)
  stat("strat_mean_api00_by_stype", k, svymean(~api00, dk, deff = TRUE), degf(dk))
  stat("strat_total_enroll_by_stype", k, svytotal(~enroll, dk, deff = TRUE), degf(dk))
}

# an unweighted stratified design without fpc: sum of weights = n, so R's deff = TRUE is Inf
# (SRSWOR of n from n has variance 0); analysis compares with SRS with replacement there,
# which is R's deff = "replace"
d0 <- suppressWarnings(svydesign(id = ~1, strata = ~stype, data = apistrat))
stat("unw_mean_api00", "", svymean(~api00, d0, deff = "replace"), degf(d0))
stat("unw_total_enroll", "", svytotal(~enroll, d0, deff = "replace"), degf(d0))
stat("unw_ratio_api_stu_enroll", "", svyratio(~api.stu, ~enroll, d0, deff = "replace"), degf(d0))
for (k in levels(apistrat$stype)) {
  dk <- subset(d0, stype == k)
  stat("unw_mean_api00_by_stype", k, svymean(~api00, dk, deff = "replace"), degf(dk))
}

d1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
apiclus1$sw <- as.numeric(apiclus1$sch.wide == "Yes")
d1 <- update(d1, sw = as.numeric(sch.wide == "Yes"))
stat("clus1_mean_api00", "", svymean(~api00, d1, deff = TRUE), degf(d1))
stat("clus1_total_enroll", "", svytotal(~enroll, d1, deff = TRUE), degf(d1))
stat("clus1_ratio_api_stu_enroll", "", svyratio(~api.stu, ~enroll, d1), degf(d1))
ciprop("clus1_prop_sw", "", ~sw, d1)
for (k in levels(apiclus1$stype)) {
  dk <- subset(d1, stype == k)
  stat("clus1_mean_api00_by_stype", k, svymean(~api00, dk, deff = TRUE), degf(dk))
  stat("clus1_ratio_by_stype", k, svyratio(~api.stu, ~enroll, dk), degf(dk))
  ciprop("clus1_prop_sw_by_stype", k, ~sw, dk)
}

# two-stage sample analysed with the ultimate-cluster variance (first stage only)
options(survey.ultimate.cluster = TRUE)
d2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
stat("clus2_mean_api00", "", svymean(~api00, d2, deff = TRUE), degf(d2))
d2v <- subset(d2, !is.na(acs.k3))
stat("clus2_mean_acs_k3_na", "", svymean(~acs.k3, d2v, deff = TRUE), degf(d2v))
for (k in levels(apiclus2$stype)) {
  dk <- subset(d2, stype == k & !is.na(acs.k3))
  if (nrow(dk) > 0) stat("clus2_mean_acs_k3_by_stype", k, svymean(~acs.k3, dk, deff = TRUE), degf(dk))
}
options(survey.ultimate.cluster = FALSE)

# calibration of the one-stage cluster sample
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
dps <- postStratify(d1, ~stype, pop_stype)
stat("clus1_ps_mean_api00", "", svymean(~api00, dps, deff = TRUE), degf(dps))
stat("clus1_ps_total_enroll", "", svytotal(~enroll, dps), degf(dps))
pop_sw <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, sch.wideYes = 5122)
drk <- calibrate(d1, ~stype + sch.wide, pop_sw, calfun = "raking", epsilon = 1e-12, maxit = 200)
stat("clus1_rake_mean_api00", "", svymean(~api00, drk, deff = TRUE), degf(drk))
for (k in levels(apiclus1$stype)) {
  dk <- subset(dps, stype == k)
  stat("clus1_ps_mean_api00_by_stype", k, svymean(~api00, dk), degf(dk))
}
for (k in c("No", "Yes")) {
  dk <- subset(drk, sch.wide == k)
  stat("clus1_rake_mean_api00_by_sch_wide", k, svymean(~api00, dk), degf(dk))
}
for (k in levels(apiclus1$stype)) {
  dk <- subset(drk, stype == k)
  stat("clus1_rake_mean_api00_by_stype", k, svymean(~api00, dk), degf(dk))
}

# ---- (b) a synthetic satisfaction survey ------------------------------------------------
set.seed(20261123)
agencies <- sprintf("A%02d", 1:12)
make_stratum <- function(ag, ch, n_hh, n_hh_pop, size = NULL) {
  if (is.null(size)) size <- sample(1:3, n_hh, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  hh <- rep(seq_len(n_hh), size)
  n <- length(hh)
  data.frame(agency = ag, channel = ch, stratum = paste(ag, ch, sep = "_"),
             hh = paste(ag, ch, hh, sep = "_"), n_hh_pop = n_hh_pop,
             n_pop = n * sample(20:60, 1))
}
parts <- list()
for (ag in agencies) for (ch in c("desk", "online")) {
  n_hh <- sample(6:40, 1)
  parts[[length(parts) + 1]] <- make_stratum(ag, ch, n_hh, n_hh * sample(5:50, 1))
}
parts[[length(parts) + 1]] <- make_stratum("A13", "desk", 1, 40, size = 3)  # a lonely household
syn <- do.call(rbind, parts)
n <- nrow(syn)
syn$sex <- sample(c("F", "M"), n, replace = TRUE)
syn$age <- sample(c("18-34", "35-54", "55+"), n, replace = TRUE, prob = c(0.35, 0.4, 0.25))
quality <- setNames(seq(-1, 1.2, length.out = 13), c(agencies, "A13"))[syn$agency]
for (j in 1:5) {
  latent <- quality + 0.3 * (syn$age == "55+") + rnorm(n, sd = 1.2)
  q <- as.numeric(cut(latent, c(-Inf, -1.5, -0.5, 0.3, 1.2, Inf)))
  miss <- runif(n) < c(0.05, 0.1, 0.1, 0.15, 0.4)[j]
  q[miss] <- NA
  syn[[paste0("q", j)]] <- q
}
write.csv(syn, out("synthetic.csv"), row.names = FALSE)

cells <- expand.grid(sex = c("F", "M"), age = c("18-34", "35-54", "55+"), stringsAsFactors = FALSE)
des_a <- svydesign(id = ~1, strata = ~stratum, fpc = ~n_pop, data = syn)
base <- svytotal(~interaction(sex, age), des_a)
cells$Freq <- round(as.vector(coef(base)) * c(1.1, 0.9, 1.05, 0.95, 1.2, 0.85))
write.csv(cells, out("synthetic_totals.csv"), row.names = FALSE)

prep <- function(des) {
  for (j in 1:5) {
    q <- des$variables[[paste0("q", j)]]
    des$variables[[paste0("s", j)]] <- ifelse(is.na(q), NA, as.numeric(q >= 4))
    des$variables[[paste0("a", j)]] <- ifelse(is.na(q), 0, as.numeric(q >= 4))
    des$variables[[paste0("m", j)]] <- ifelse(is.na(q), 0, q)
    des$variables[[paste0("b", j)]] <- as.numeric(!is.na(q))
  }
  des
}
# Index over items `j` with weights `wt`: a ratio-of-totals contrast, in each agency. An item
# with no valid answer in the agency is left out and the other weights renormalised (the rule
# of analysis.indices.satisfaction_index for partial index nodes).
index_ref <- function(case, des, j, wt, score = FALSE) {
  den_all <- paste0("b", j)
  any_answer <- Reduce(`|`, lapply(den_all, function(b) des$variables[[b]] == 1))
  des$variables$any_answer <- any_answer
  for (k in sort(unique(des$variables$agency))) {
    in_k <- des$variables$agency == k
    has <- vapply(den_all, function(b) any(des$variables[[b]][in_k] == 1), logical(1))
    num <- if (score) paste0("m", j[has]) else paste0("a", j[has])
    den <- den_all[has]
    a <- wt[has] / sum(wt[has])
    f <- as.formula(paste("~", paste(c(num, den), collapse = "+")))
    expr <- parse(text = paste(sprintf("%.17g*%s/%s", a, num, den), collapse = "+"))[[1]]
    dk <- subset(des, agency == k & any_answer)
    est <- svycontrast(svytotal(f, dk), expr)
    emit(case, k, coef(est)[1], SE(est)[1], degf(dk))
  }
}
# Answers pooled over items j (Bo Y te "ty le hai long chung"; score = TRUE: pooled mean score):
# svyratio of the respondent's count of satisfied answers (or sum of scores) over the count
# of valid answers, on the respondents with at least one valid answer.
pooled_ref <- function(case, des, j, score = FALSE) {
  v <- des$variables
  des$variables$pool_den <- Reduce(`+`, lapply(paste0("b", j), function(b) v[[b]]))
  des$variables$pool_num <- Reduce(`+`, lapply(paste0(if (score) "m" else "a", j), function(a) v[[a]]))
  dall <- subset(des, pool_den > 0)
  stat(paste0(case, "_overall"), "", svyratio(~pool_num, ~pool_den, dall, deff = TRUE), degf(dall))
  for (k in sort(unique(v$agency))) {
    dk <- subset(des, agency == k & pool_den > 0)
    stat(case, k, svyratio(~pool_num, ~pool_den, dk, deff = TRUE), degf(dk))
  }
}
item_ref <- function(case, des, j = 1, deff = TRUE) {
  # 0-filled indicator restricted to the respondents of item j (NA would propagate in
  # calibrated designs, which keep out-of-domain rows with weight 0)
  f <- as.formula(paste0("~a", j))
  answered <- des$variables[[paste0("b", j)]] == 1
  for (k in sort(unique(des$variables$agency))) {
    dk <- subset(des, agency == k & answered)
    stat(case, k, svymean(f, dk, deff = deff), degf(dk))
    if (degf(dk) > 0) ciprop(paste0(case, "_ci"), k, f, dk)
  }
}

des_a <- prep(des_a)
item_ref("syn_item_q1", des_a)
item_ref("syn_item_q5", des_a, 5)
index_ref("syn_index_q1_q5", des_a, 1:5, rep(1, 5))
index_ref("syn_index_weighted", des_a, c(1, 2, 5), c(0.5, 0.3, 0.2))
index_ref("syn_score_q1_q5", des_a, 1:5, rep(1, 5), score = TRUE)
des_u <- prep(suppressWarnings(svydesign(id = ~1, strata = ~stratum, data = syn)))
item_ref("syn_unw_item_q1", des_u, deff = "replace")
pooled_ref("syn_pooled_q1_q5", des_a, 1:5)
pooled_ref("syn_pooled_score_q1_q5", des_a, 1:5, score = TRUE)

# NCHS Korn-Graubard intervals: q1 >= 2 is 1 in A09, A11 and A13, q4 >= 5 is 0 in A02
des_a$variables$q1_ge2 <- ifelse(is.na(des_a$variables$q1), NA, as.numeric(des_a$variables$q1 >= 2))
des_a$variables$q4_ge5 <- ifelse(is.na(des_a$variables$q4), NA, as.numeric(des_a$variables$q4 >= 5))
nchs_ref("syn_nchs_q1_t2", des_a, "q1_ge2")
nchs_ref("syn_nchs_q4_t5", des_a, "q4_ge5")

# partial index node: q2 has no answer in A03 and A07, q5 none in A07
des_p <- des_a
des_p$variables$q2[des_p$variables$agency %in% c("A03", "A07")] <- NA
des_p$variables$q5[des_p$variables$agency == "A07"] <- NA
des_p <- prep(des_p)
index_ref("syn_partial_index_weighted", des_p, c(1, 2, 5), c(0.5, 0.3, 0.2))
index_ref("syn_partial_score", des_p, 1:5, rep(1, 5), score = TRUE)
dv <- subset(des_a, !is.na(s1))
stat("syn_item_q1_overall", "", svymean(~s1, dv, deff = TRUE), degf(dv))
ciprop("syn_item_q1_overall_ci", "", ~s1, dv)

pop_cells <- data.frame(sex = cells$sex, age = cells$age, Freq = cells$Freq)
des_ps <- prep(postStratify(des_a, ~sex + age, pop_cells))
index_ref("syn_ps_index_q1_q5", des_ps, 1:5, rep(1, 5))
item_ref("syn_ps_item_q1", des_ps)
sex_tot <- tapply(cells$Freq, cells$sex, sum)
age_tot <- tapply(cells$Freq, cells$age, sum)
pop_rk <- c(`(Intercept)` = sum(cells$Freq), sexM = sex_tot[["M"]],
            `age35-54` = age_tot[["35-54"]], `age55+` = age_tot[["55+"]])
des_rk <- prep(calibrate(des_a, ~sex + age, pop_rk, calfun = "raking", epsilon = 1e-12, maxit = 200))
index_ref("syn_rake_index_q1_q5", des_rk, 1:5, rep(1, 5))
pooled_ref("syn_rake_pooled_q1_q5", des_rk, 1:5)
item_ref("syn_rake_item_q1", des_rk)

# trimming (weights treated as fixed afterwards), once and until no weight is outside
upper <- quantile(weights(des_a), 0.9, names = FALSE)
des_tr <- trimWeights(des_a, upper = upper)
item_ref("syn_trim_item_q1", des_tr)
index_ref("syn_trim_index_q1_q5", des_tr, 1:5, rep(1, 5))
des_trs <- trimWeights(des_a, upper = upper, strict = TRUE)
index_ref("syn_trim_strict_index_q1_q5", des_trs, 1:5, rep(1, 5))

# household (PSU) design with a lonely stratum, under each lonely-PSU option
for (opt in c("adjust", "remove", "certainty", "average")) {
  options(survey.lonely.psu = opt)
  des_b <- prep(svydesign(id = ~hh, strata = ~stratum, fpc = ~n_hh_pop, data = syn))
  dv <- subset(des_b, !is.na(s1))
  stat(paste0("syn_hh_", opt, "_item_q1_overall"), "", svymean(~s1, dv, deff = TRUE), degf(dv))
  stat(paste0("syn_hh_", opt, "_total_q1_overall"), "",
       svytotal(~q1, subset(des_b, !is.na(q1))), degf(dv))
  index_ref(paste0("syn_hh_", opt, "_index_q1_q5"), des_b, 1:5, rep(1, 5))
}

# households as PSUs: A13 is one household in one stratum (df = 0)
options(survey.lonely.psu = "adjust")
des_b <- prep(svydesign(id = ~hh, strata = ~stratum, fpc = ~n_hh_pop, data = syn))
nchs_ref("syn_hh_nchs_q3", des_b, "s3")
pooled_ref("syn_hh_pooled_q1_q5", des_b, 1:5)
options(survey.lonely.psu = "fail")

# differences between domains of one design: delta method on the four totals
# (sum of a1 and of b1 in each domain), the same linearisation as svyby(covmat = TRUE)
contrast_ref <- function(case, des, by, first, second) {
  g <- des$variables[[by]]
  des$variables$y_1 <- des$variables$a1 * (g == first)
  des$variables$n_1 <- des$variables$b1 * (g == first)
  des$variables$y_2 <- des$variables$a1 * (g == second)
  des$variables$n_2 <- des$variables$b1 * (g == second)
  est <- svycontrast(svytotal(~y_1 + n_1 + y_2 + n_2, des), quote(y_1 / n_1 - y_2 / n_2))
  emit(case, paste(first, second, sep = "-"), coef(est)[1], SE(est)[1])
}
options(survey.lonely.psu = "adjust")
des_b <- prep(svydesign(id = ~hh, strata = ~stratum, fpc = ~n_hh_pop, data = syn))
contrast_ref("cmp_hh_sex_q1", des_b, "sex", "F", "M")
contrast_ref("cmp_ps_agency_q1", des_ps, "agency", "A01", "A02")
contrast_ref("cmp_rk_agency_q1", des_rk, "agency", "A03", "A07")
contrast_ref("cmp_a_agency_q1", des_a, "agency", "A01", "A05")
options(survey.lonely.psu = "fail")

# ---- (c) raking with overlapping margins on a design with many strata ------------------
# 3,000 respondents in 120 strata (30 agencies x 4), fpc; raked (calibrate, calfun = "raking")
# to two margins that overlap: agency (unions of strata) and sex x age; and to two nested
# margins, stratum and agency x age, whose indicators have 30 linear dependencies.
set.seed(20261124)
nb <- 3000
big <- data.frame(stratum = sprintf("S%03d", sample(1:120, nb, replace = TRUE)))
big$agency <- sprintf("G%02d", (as.integer(substr(big$stratum, 2, 4)) - 1) %/% 4 + 1)
big$n_pop <- ave(rep(1, nb), big$stratum, FUN = sum) * sample(20:80, 120, replace = TRUE)[
  as.integer(substr(big$stratum, 2, 4))]
big$sexage <- paste(sample(c("F", "M"), nb, replace = TRUE, prob = c(0.55, 0.45)),
                    sample(c("18-34", "35-54", "55+"), nb, replace = TRUE, prob = c(0.3, 0.45, 0.25)))
big$ag_age <- paste(big$agency, substr(big$sexage, 3, 7))
big$y <- as.numeric(runif(nb) < plogis(-0.5 + (as.integer(substr(big$agency, 2, 3)) %% 5) / 4 +
                                           0.4 * grepl("55", big$sexage)))
big$y[runif(nb) < 0.1] <- NA
write.csv(big, out("rake120.csv"), row.names = FALSE)
big$answered <- !is.na(big$y)
big$y0 <- ifelse(big$answered, big$y, 0)  # NA would propagate in calibrated designs
des_big <- svydesign(id = ~1, strata = ~stratum, fpc = ~n_pop, data = big)
true_w <- weights(des_big) * exp(rnorm(nb, sd = 0.2))  # a population the margins come from
big_totals <- function(v) tapply(true_w, big[[v]], sum)
write.csv(do.call(rbind, lapply(c("agency", "sexage", "stratum", "ag_age"), function(m) {
  t <- big_totals(m)
  data.frame(margin = m, category = names(t), Freq = sprintf("%.17g", t))
})), out("rake120_totals.csv"), row.names = FALSE)
rake_big <- function(case, margins) {
  f <- as.formula(paste("~", paste(margins, collapse = "+")))
  mm <- model.matrix(f, big)
  tot <- lapply(margins, big_totals)
  pop <- c(sum(true_w), unlist(lapply(tot, function(t) t[-1])))
  names(pop) <- colnames(mm)
  des <- calibrate(des_big, f, pop, calfun = "raking", epsilon = 1e-13, maxit = 1000)
  dv <- subset(des, answered)
  stat(paste0(case, "_overall"), "", svymean(~y0, dv, deff = TRUE), degf(dv))
  for (k in sort(unique(big$agency))) {
    dk <- subset(des, agency == k & answered)
    stat(case, k, svymean(~y0, dk, deff = TRUE), degf(dk))
  }
}
rake_big("big_rake_agency_sexage", c("agency", "sexage"))
rake_big("big_rake_stratum_agage", c("stratum", "ag_age"))

res <- do.call(rbind, rows)
for (col in c("estimate", "se", "df", "deff", "ci_low", "ci_high")) {
  x <- res[[col]]
  res[[col]] <- ifelse(is.finite(x), sprintf("%.17g", x), NA)
}
write.csv(res, out("r_reference.csv"), row.names = FALSE)
cat("wrote", nrow(res), "reference rows with survey", as.character(packageVersion("survey")), "\n")
