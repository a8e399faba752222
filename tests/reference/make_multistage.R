# Reference values for the multistage variance (tests/analysis/test_multistage.py) from R's
# `survey` package: svyrecvar's default recursive estimator with an fpc at every stage.
#
# Run from the repository root:  Rscript tests/reference/make_multistage.R
# Writes (next to this script):
#   multistage.csv            a generated three-stage patient survey: hospitals (stage 1,
#                             strata `st`; the `central` stratum is taken with certainty,
#                             N1 = n1) -> ward-days (stage 2, strata `st2` inside each hospital;
#                             one stratum fully taken) -> patients (stage 3; one ward-day with
#                             every patient interviewed); `keep_lonely` marks the rows of a
#                             variant where one hospital's outpatient stratum keeps a single
#                             ward-day (a lonely unit at stage 2)
#   multistage_totals.csv     population totals (margin, category, Freq) for calibration
#   multistage_reference.csv  case, domain, estimate, se, df, deff, ci_low, ci_high
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = FALSE)
script <- sub("--file=", "", args[grep("--file=", args)])
out_dir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
out <- function(name) file.path(out_dir, name)
options(survey.ultimate.cluster = FALSE, survey.lonely.psu = "fail")

# ---- data --------------------------------------------------------------------------------
set.seed(20261130)
frame1 <- data.frame(st = c("central", "provincial", "district"), N1 = c(3, 12, 30),
                     n1 = c(3, 4, 5))
rows <- list()
h <- 0
for (s in seq_len(nrow(frame1))) {
  for (i in seq_len(frame1$n1[s])) {
    h <- h + 1
    hosp <- sprintf("H%02d", h)
    quality <- rnorm(1, sd = 0.6)
    for (st2 in c("inpatient", "outpatient")) {
      N2 <- sample(8:30, 1)
      n2 <- sample(2:4, 1)
      if (hosp == "H05" && st2 == "inpatient") N2 <- n2 <- 3  # stage-2 certainty stratum
      for (d in seq_len(n2)) {
        N3 <- sample(10:40, 1)
        n3 <- sample(3:6, 1)
        if (hosp == "H02" && st2 == "outpatient" && d == 1) N3 <- n3 <- 4  # census of a day
        day_effect <- rnorm(1, sd = 0.5)
        latent <- quality + day_effect + rnorm(n3, sd = 1)
        part <- data.frame(
          st = frame1$st[s], hosp = hosp, N1 = frame1$N1[s], st2 = st2,
          wardday = paste0("d", d), N2 = N2, pid = seq_len(n3), N3 = N3,
          sex = sample(c("F", "M"), n3, replace = TRUE),
          age = sample(c("young", "middle", "old"), n3, replace = TRUE),
          x = round(rexp(n3, 1 / 30) + 5, 1),
          keep_lonely = !(hosp == "H08" && st2 == "outpatient" && d > 1)
        )
        for (j in 1:3) {
          q <- as.numeric(cut(latent + rnorm(n3, sd = 0.7), c(-Inf, -1.5, -0.5, 0.3, 1.2, Inf)))
          q[runif(n3) < c(0.05, 0.15, 0.3)[j]] <- NA
          part[[paste0("q", j)]] <- q
        }
        part$y <- round(60 + 10 * latent + rnorm(n3, sd = 5), 2)
        rows[[length(rows) + 1]] <- part
      }
    }
  }
}
ms <- do.call(rbind, rows)
ms$w <- with(ms, (N1 / ave(match(hosp, unique(hosp)), st, FUN = function(v) length(unique(v)))))
n2 <- ave(match(paste(ms$hosp, ms$st2, ms$wardday), unique(paste(ms$hosp, ms$st2, ms$wardday))),
          ms$hosp, ms$st2, FUN = function(v) length(unique(v)))
n3 <- ave(ms$pid, ms$hosp, ms$st2, ms$wardday, FUN = length)
ms$w <- ms$w * ms$N2 / n2 * ms$N3 / n3
ms$sat <- ifelse(is.na(ms$q1), NA, as.numeric(ms$q1 >= 4))
write.csv(ms, out("multistage.csv"), row.names = FALSE)

# ---- reference values ----------------------------------------------------------------------
ref <- list()
emit <- function(case, domain, est, se = NA, df = NA, deff = NA, lo = NA, hi = NA) {
  ref[[length(ref) + 1]] <<- data.frame(
    case = case, domain = as.character(domain), estimate = as.numeric(est),
    se = as.numeric(se), df = as.numeric(df), deff = as.numeric(deff),
    ci_low = as.numeric(lo), ci_high = as.numeric(hi))
}
stat <- function(case, domain, m, df = NA) {
  d <- attr(m, "deff")
  emit(case, domain, coef(m)[1], SE(m)[1], df, if (is.null(d)) NA else d[1])
}
prep <- function(des) {
  v <- des$variables
  for (j in 1:3) {
    q <- v[[paste0("q", j)]]
    v[[paste0("a", j)]] <- ifelse(is.na(q), 0, as.numeric(q >= 4))
    v[[paste0("b", j)]] <- as.numeric(!is.na(q))
  }
  v$S <- v$a1 + v$a2 + v$a3
  v$A <- v$b1 + v$b2 + v$b3
  v$any <- v$A > 0
  des$variables <- v
  des
}
index_ref <- function(case, des, by) {
  for (k in sort(unique(des$variables[[by]]))) {
    dk <- subset(des, des$variables[[by]] == k & any)
    est <- svycontrast(svytotal(~a1 + a2 + a3 + b1 + b2 + b3, dk),
                       quote(a1 / b1 / 3 + a2 / b2 / 3 + a3 / b3 / 3))
    emit(case, k, coef(est)[1], SE(est)[1], degf(dk))
  }
}
estimates <- function(prefix, des, deff = TRUE, domains = TRUE) {
  des <- prep(des)
  stat(paste0(prefix, "_mean_y"), "", svymean(~y, des, deff = deff), degf(des))
  stat(paste0(prefix, "_total_y"), "", svytotal(~y, des, deff = deff), degf(des))
  stat(paste0(prefix, "_ratio_y_x"), "", svyratio(~y, ~x, des, deff = deff), degf(des))
  dv <- subset(des, !is.na(sat))
  stat(paste0(prefix, "_prop_sat"), "", svymean(~sat, dv, deff = deff), degf(dv))
  if (!domains) return(invisible())
  for (k in sort(unique(des$variables$st))) {
    dk <- subset(des, st == k)
    stat(paste0(prefix, "_mean_y_by_st"), k, svymean(~y, dk, deff = deff), degf(dk))
    stat(paste0(prefix, "_total_y_by_st"), k, svytotal(~y, dk, deff = deff), degf(dk))
    dq <- subset(des, st == k & !is.na(q1))
    stat(paste0(prefix, "_item_q1_by_st"), k, svymean(~a1, dq, deff = deff), degf(dq))
    da <- subset(des, st == k & any)
    stat(paste0(prefix, "_pooled_by_st"), k, svyratio(~S, ~A, da, deff = deff), degf(da))
  }
  for (k in c("F", "M")) {
    dk <- subset(des, sex == k)
    stat(paste0(prefix, "_mean_y_by_sex"), k, svymean(~y, dk, deff = deff), degf(dk))
    stat(paste0(prefix, "_ratio_y_x_by_sex"), k, svyratio(~y, ~x, dk, deff = deff), degf(dk))
  }
  index_ref(paste0(prefix, "_index_by_st"), des, "st")
}

# one stage (hospitals only): the certainty stratum contributes nothing
d1 <- svydesign(id = ~hosp, strata = ~st, fpc = ~N1, weights = ~w, data = ms)
estimates("ms1", d1)
# two stages: hospitals, then ward-days (stratified by st2 inside each hospital). Ward-day
# ids (d1, d2, ...) repeat across the st2 strata of a hospital: nest = TRUE nests each stage's
# units in their strata, as analysis always does
d2 <- svydesign(id = ~hosp + wardday, strata = ~st + st2, fpc = ~N1 + N2, weights = ~w,
                data = ms, nest = TRUE)
estimates("ms2", d2)
# three stages with R's default weights (product of N/n over the stages); stage-3 strata:
# R reuses st2 within each ward-day, i.e. none
d3 <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~N1 + N2 + N3, data = ms,
                nest = TRUE)
stopifnot(isTRUE(all.equal(as.vector(weights(d3)), ms$w)))
estimates("ms3", d3)
# sampling fractions instead of population sizes
ms$f1 <- with(ms, ave(seq_along(hosp), st, FUN = function(i) length(unique(hosp[i]))) / N1)
ms$f2 <- with(ms, ave(seq_along(hosp), hosp, st2,
                      FUN = function(i) length(unique(wardday[i]))) / N2)
ms$f3 <- with(ms, ave(pid, hosp, st2, wardday, FUN = length) / N3)
d3f <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~f1 + f2 + f3, data = ms,
                 nest = TRUE)
estimates("ms3f", d3f, domains = FALSE)

# a lonely ward-day at stage 2 (H08 outpatient keeps one), under each lonely.psu option
lon <- ms[ms$keep_lonely, ]
for (opt in c("adjust", "remove", "certainty", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~N1 + N2 + N3,
                  weights = ~w, data = lon, nest = TRUE)
  estimates(paste0("ms3_lonely_", opt), dl)
}
options(survey.lonely.psu = "fail")

# calibrated three-stage designs: post-stratified on sex, raked on sex and age
tot_sex <- data.frame(sex = c("F", "M"), Freq = round(c(0.52, 0.48) * sum(ms$w)))
tot_age <- data.frame(age = c("middle", "old", "young"),
                      Freq = round(c(0.4, 0.25, 0.35) * sum(ms$w)))
tot_age$Freq[3] <- sum(tot_sex$Freq) - sum(tot_age$Freq[1:2])  # margins agree on the total
write.csv(rbind(data.frame(margin = "sex", category = tot_sex$sex, Freq = tot_sex$Freq),
                data.frame(margin = "age", category = tot_age$age, Freq = tot_age$Freq)),
          out("multistage_totals.csv"), row.names = FALSE)
d3w <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~N1 + N2 + N3,
                 weights = ~w, data = ms, nest = TRUE)
dps <- postStratify(d3w, ~sex, tot_sex)
stat("ms3_ps_mean_y", "", svymean(~y, dps), degf(dps))
for (k in sort(unique(ms$st))) {
  dk <- subset(dps, st == k)
  stat("ms3_ps_mean_y_by_st", k, svymean(~y, dk), degf(dk))
}
pop <- c(`(Intercept)` = sum(tot_sex$Freq), sexM = tot_sex$Freq[2],
         ageold = tot_age$Freq[2], ageyoung = tot_age$Freq[3])
drk <- calibrate(d3w, ~sex + age, pop, calfun = "raking", epsilon = 1e-12, maxit = 200)
stat("ms3_rake_mean_y", "", svymean(~y, drk), degf(drk))
for (k in sort(unique(ms$st))) {
  dk <- subset(drk, st == k)
  stat("ms3_rake_mean_y_by_st", k, svymean(~y, dk), degf(dk))
}

# the central stratum reduced to one hospital taken with certainty (N1 = n1 = 1): a single PSU,
# but with f = 0 it is not lonely (R's onestrat returns 0 before the lonely-PSU rule) and its
# ward-days and patients give its variance
one <- ms[!(ms$hosp %in% c("H02", "H03")), ]
one$N1[one$st == "central"] <- 1
d1c <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~N1 + N2 + N3,
                 weights = ~w, data = one, nest = TRUE)
estimates("ms3_single_certainty", d1c)

# a lonely hospital at stage 1: the provincial stratum keeps only H04 (N1 = 12), under each
# lonely.psu option; its ward-days still add their variance below it
lone1 <- ms[!(ms$hosp %in% c("H05", "H06", "H07")), ]
for (opt in c("adjust", "remove", "certainty", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~hosp + wardday + pid, strata = ~st + st2, fpc = ~N1 + N2 + N3,
                  weights = ~w, data = lone1, nest = TRUE)
  estimates(paste0("ms3_lonely1_", opt), dl)
}
options(survey.lonely.psu = "fail")

write.csv(do.call(rbind, ref), out("multistage_reference.csv"), row.names = FALSE)
