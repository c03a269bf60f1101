"""Where to add facilities: candidate sites ranked by the population they bring to a requirement.

:mod:`circles.suggest.demand` turns an audit into the requirement's demand (who meets it, who
needs how many more facilities within its threshold) and the reach sets of the existing
facilities and of the candidate sites, with one bounded search per site
(:mod:`circles.traveltime.reach`); :mod:`circles.suggest.select` picks sites (lazy greedy, the
set-cover form for a coverage target, the maximal-covering integer program with HiGHS);
:mod:`circles.suggest.run` ties them to the audit and builds the tables the report writes.
"""
