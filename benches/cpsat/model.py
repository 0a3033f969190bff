"""CP-SAT model of the combined-therapy planning problem (issue 16, item 6).

Reads the request the scheduler plugin receives (`praxis schedule plan --request-out FILE`, or
`cpsat_io gen`), builds an exact model of the same problem and solves it with OR-Tools CP-SAT:

- C1: only the plan's demand: a chain of massages and, per other discipline, a chain of sessions;
- C2: heat, massage and cold are one block (heat_minutes + the top of the minutes range + cold_minutes),
  one practitioner, one room, contiguous;
- C3: a qualified practitioner, a suitable room (the plugin's room table), inside opening hours, the
  practitioner's availability (not on leave, not leading a class then) and the client's availability,
  starts on multiples of slot_minutes; practitioners and clients never overlap, rooms hold at most their
  capacity and a class session takes its studio; a class place is at the class's time, within its places
  (the smaller of the class's and the studio's capacity), and only when its leader works then;
- C4: consecutive massages at least `min` days apart; a massage more than `max` days after the previous one
  (or after its first window) is late; no massage before `not_before`;
- C5: a client with fibromyalgia has at most `weekly_cap` visits in any `cap_window_days` consecutive days
  and (same_day_bundled_only) at most one visit a day;
- the other disciplines' rhythm, as the planner defines it: occurrence k is due `every_days * k` days after
  the chain's anchor (the last session + every_days, or, for a new or overdue chain, the first session
  placed, anywhere in one interval from the horizon's start), may be placed `tolerance` days either side,
  and is at least `every_days - tolerance` days after the previous session.

Objective, the same for Praxis's plan (see `objective()`): demand met. Each client's chain (its massages, each
other discipline) has a demand computed from the request alone (`demand()`): the number of sessions whose
window opens inside the horizon when every session is placed on the last day of its window (massages at the
top of their interval, other sessions at due + tolerance): the sessions needed to keep the plan's rhythm. A
chain scores 2 points per session placed, up to its demand, and loses 1 per massage placed late. Sessions
beyond a chain's demand (massages packed at the bottom of their interval) earn nothing, so neither side gains
by serving one client more often at another's expense.

Only requests without booked appointments are modelled (the generator makes none); a request with booked
appointments is refused.
"""

import json
import os
import sys
import time
from datetime import date, timedelta

from ortools.sat.python import cp_model

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
GROUP = {"yoga", "tai_chi", "mindfulness"}
ON_TIME, LATE = 2, 1

DEFAULTS = {
    "heat_minutes": 10,
    "cold_minutes": 10,
    "weekly_cap": 3,
    "cap_window_days": 7,
    "same_day_bundled_only": True,
    "slot_minutes": 15,
    "tolerance_days": 3,
}


def discipline_name(d):
    return d


def room_kind_for(discipline):
    """The plugin's room table: acupuncture room, studio for yoga, tai chi and mindfulness, a treatment room for
    massage, physical therapy and any other discipline."""
    if discipline == "acupuncture":
        return "acupuncture_room"
    if discipline in GROUP:
        return "studio"
    return "treatment_room"


def minutes(hhmm):
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def normalize(ivs):
    out = []
    for s, e in sorted(iv for iv in ivs if iv[0] < iv[1]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def intersect(a, b):
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def remove(free, span):
    s, e = span
    out = []
    for fs, fe in free:
        if fe <= s or fs >= e:
            out.append((fs, fe))
            continue
        if fs < s:
            out.append((fs, s))
        if e < fe:
            out.append((e, fe))
    return out


def by_weekday(windows):
    days = [[] for _ in range(7)]
    for w in windows:
        days[WEEKDAYS.index(w["day"])].append((minutes(w["start"]), minutes(w["end"])))
    return [normalize(d) for d in days]


def starts(free, length, step):
    """Every start, a multiple of step, at which `length` minutes fit inside one interval of `free`."""
    out = []
    for fs, fe in free:
        s = -(-fs // step) * step
        while s + length <= fe:
            out.append(s)
            s += step
    return out


def parse_date(s):
    return date.fromisoformat(s)


def first_massage_window(md, day_of):
    lo_i, hi_i = md["interval_days"]["min"], md["interval_days"]["max"]
    floor = max(0, day_of(md["not_before"])) if md.get("not_before") else 0
    prev0 = day_of(md["last"]) if md.get("last") else None
    if prev0 is None:
        return floor, floor + (hi_i - lo_i)
    first_lo, first_hi = max(prev0 + lo_i, floor), prev0 + hi_i
    if first_hi < first_lo:
        first_hi = first_lo + (hi_i - lo_i)
    return first_lo, first_hi


def other_chain(o, tol_days, day_of):
    """(every, tolerance, anchor0, open) of another discipline's chain, as the planner seeds it."""
    every = o["every_days"]
    tol = min(tol_days, (every - 1) // 2)
    prev0 = day_of(o["last"]) if o.get("last") else None
    nxt = prev0 + every if prev0 is not None else None
    is_open = nxt is None or nxt < 0
    anchor0 = max(nxt if nxt is not None else 0, 0)
    return every, tol, anchor0, is_open, prev0


def demand(req):
    """Per (client, discipline): the sessions needed to keep the plan's rhythm over the horizon (see the
    module's docs)."""
    start = parse_date(req["start"])
    end = req["days"]
    tol_days = dict(DEFAULTS, **req.get("settings", {}))["tolerance_days"]

    def day_of(iso):
        return (parse_date(iso) - start).days

    out = {}
    for plan in req["plans"]:
        md = plan.get("massage")
        if md:
            lo_i, hi_i = md["interval_days"]["min"], md["interval_days"]["max"]
            opens, at = first_massage_window(md, day_of)
            n = 0
            while opens < end:
                n += 1
                opens, at = at + lo_i, at + hi_i
            out[(plan["client"], "massage")] = n
        for o in plan["other"]:
            every, tol, anchor0, is_open, _ = other_chain(o, tol_days, day_of)
            anchor = max(every - 1, tol) if is_open else anchor0
            n = 1 if is_open else 0
            k = 1 if is_open else 0
            while anchor + every * k < end:
                n += 1
                k += 1
            out[(plan["client"], o["discipline"])] = n
    return out


def objective(proposal, req):
    """The objective of a plan (see the module's docs)."""
    need = demand(req)
    placed = {}
    for a in proposal.get("appointments", []):
        if a.get("adjunct") is None:
            key = (a["client"], a["discipline"])
            placed[key] = placed.get(key, 0) + 1
    score = sum(ON_TIME * min(n, need.get(key, 0)) for key, n in placed.items())
    return score - (ON_TIME - LATE) * len(proposal.get("late", []))


def build(req):
    if req.get("booked"):
        raise SystemExit("the CP-SAT model handles requests without booked appointments only")
    s = dict(DEFAULTS)
    s.update({k: v for k, v in req.get("settings", {}).items() if k in DEFAULTS})
    start = parse_date(req["start"])
    days = req["days"]
    end = days  # day indices 0..days-1
    step = s["slot_minutes"]
    tol_days = s["tolerance_days"]
    opening = by_weekday(req["opening_hours"])
    wd = [(start + timedelta(d)).weekday() for d in range(days)]

    def day_of(iso):
        return (parse_date(iso) - start).days

    pracs = []
    for p in req["practitioners"]:
        own = by_weekday(p["availability"]) if p["availability"] else opening
        avail = [intersect(own[k], opening[k]) for k in range(7)]
        off = set()
        for r in p["time_off"]:
            for d in range(day_of(r["from"]), day_of(r["to"]) + 1):
                off.add(d)
        pracs.append({"id": p["id"], "disc": {discipline_name(x) for x in p["disciplines"]}, "avail": avail, "off": off})
    prac_ix = {p["id"]: i for i, p in enumerate(pracs)}
    rooms = [{"id": r["id"], "kind": r["kind"], "cap": r["capacity"]} for r in req["rooms"]]
    room_ix = {r["id"]: i for i, r in enumerate(rooms)}
    classes = []
    for c in req["classes"]:
        p, r = prac_ix[c["practitioner"]], room_ix[c["room"]]
        st = minutes(c["start"])
        span = (st, st + c["minutes"])
        k = WEEKDAYS.index(c["day"])
        usable = any(a <= span[0] and span[1] <= b for a, b in pracs[p]["avail"][k])
        classes.append({"id": c["id"], "disc": discipline_name(c["discipline"]), "wd": k, "span": span, "prac": p,
                        "room": r, "places": min(c["capacity"], rooms[r]["cap"]), "usable": usable})
    # Free minutes per practitioner and day (availability minus leave and class sessions); rooms' class spans.
    prac_free = [[[] if d in p["off"] else list(p["avail"][wd[d]]) for d in range(days)] for p in pracs]
    room_class = [[[] for _ in range(days)] for _ in rooms]
    for c in classes:
        for d in range(days):
            if wd[d] == c["wd"] and d not in pracs[c["prac"]]["off"]:
                prac_free[c["prac"]][d] = remove(prac_free[c["prac"]][d], c["span"])
                room_class[c["room"]][d].append(c["span"])

    m = cp_model.CpModel()
    score = []
    # Per (practitioner, day), (room, day), (client, day): the optional intervals.
    prac_iv = {}
    room_iv = {}
    client_iv = {}
    class_use = {}
    visits = {}  # (client, day) -> list of literals (one per session on that day)
    stats = {"sessions": 0, "options": 0, "list": []}

    def session(c_ix, base, disc, length, day_range):
        """One optional session of a client: a day among `day_range`, an individual slot or a class place.
        Returns (present, day_var, on_day literals by day)."""
        present = m.NewBoolVar("")
        on_day = {}
        kind = room_kind_for(disc)
        for d in day_range:
            options = []
            k = wd[d]
            client_free = base[k]
            # Individual: one start var for the day, a practitioner and a room.
            pr_opts = []
            for p_i, p in enumerate(pracs):
                if disc not in p["disc"]:
                    continue
                st = starts(intersect(client_free, prac_free[p_i][d]), length, step)
                if st:
                    pr_opts.append((p_i, st))
            rm_opts = [r_i for r_i, r in enumerate(rooms) if r["kind"] == kind]
            room_starts = {}
            for r_i in rm_opts:
                free = [(0, 1440)]
                for span in room_class[r_i][d]:
                    free = remove(free, span)
                room_starts[r_i] = set(starts(intersect(client_free, free), length, step))
            all_starts = sorted(set().union(*[set(st) for _, st in pr_opts]) & set().union(*room_starts.values())) \
                if pr_opts and rm_opts else []
            if all_starts:
                ind = m.NewBoolVar("")
                start_var = m.NewIntVarFromDomain(cp_model.Domain.FromValues(all_starts), "")
                iv = m.NewOptionalFixedSizeIntervalVar(start_var, length, ind, "")
                client_iv.setdefault((c_ix, d), []).append(iv)
                ps = []
                for p_i, st in pr_opts:
                    ok = sorted(set(st) & set(all_starts))
                    if not ok:
                        continue
                    a = m.NewBoolVar("")
                    m.AddLinearExpressionInDomain(start_var, cp_model.Domain.FromValues(ok)).OnlyEnforceIf(a)
                    prac_iv.setdefault((p_i, d), []).append(m.NewOptionalFixedSizeIntervalVar(start_var, length, a, ""))
                    ps.append(a)
                rs = []
                for r_i in rm_opts:
                    ok = sorted(room_starts[r_i] & set(all_starts))
                    if not ok:
                        continue
                    b = m.NewBoolVar("")
                    m.AddLinearExpressionInDomain(start_var, cp_model.Domain.FromValues(ok)).OnlyEnforceIf(b)
                    room_iv.setdefault((r_i, d), []).append(m.NewOptionalFixedSizeIntervalVar(start_var, length, b, ""))
                    rs.append(b)
                m.Add(sum(ps) == ind)
                m.Add(sum(rs) == ind)
                options.append(ind)
                stats["options"] += len(ps) + len(rs)
            # A class place.
            if disc in GROUP:
                for c_i, c in enumerate(classes):
                    if c["disc"] != disc or c["wd"] != k or not c["usable"] or d in pracs[c["prac"]]["off"]:
                        continue
                    if not any(a <= c["span"][0] and c["span"][1] <= b for a, b in client_free):
                        continue
                    x = m.NewBoolVar("")
                    class_use.setdefault((c_i, d), []).append(x)
                    client_iv.setdefault((c_ix, d), []).append(
                        m.NewOptionalFixedSizeIntervalVar(c["span"][0], c["span"][1] - c["span"][0], x, ""))
                    options.append(x)
            if options:
                y = m.NewBoolVar("")
                m.Add(sum(options) == y)
                on_day[d] = y
                visits.setdefault((c_ix, d), []).append(y)
        if on_day:
            m.Add(sum(on_day.values()) == present)
        else:
            m.Add(present == 0)
        day_var = m.NewIntVar(0, days - 1, "")
        m.Add(day_var == sum(d * y for d, y in on_day.items()))
        stats["sessions"] += 1
        return present, day_var

    need = demand(req)

    def capped(client, disc, presents):
        """2 points per session of the chain placed, up to its demand."""
        z = m.NewIntVar(0, need[(client, disc)], "")
        m.Add(z <= sum(presents))
        score.append(ON_TIME * z)

    plans = sorted(req["plans"], key=lambda p: p["client"])
    fibro = {}
    for c_ix, plan in enumerate(plans):
        own = by_weekday(plan["availability"]) if plan["availability"] else opening
        base = [intersect(own[k], opening[k]) for k in range(7)]
        fibro[c_ix] = plan["fibromyalgia"]
        md = plan.get("massage")
        if md:
            lo_i, hi_i = md["interval_days"]["min"], md["interval_days"]["max"]
            length = (s["heat_minutes"] * len(md["before"]) + md["minutes"]["max"]
                      + s["cold_minutes"] * len(md["after"]))
            first_lo, first_hi = first_massage_window(md, day_of)
            chain = []
            k = 0
            while first_lo + k * lo_i < end:
                lo = first_lo + k * lo_i
                present, day = session(c_ix, base, "massage", length, range(lo, end))
                late = m.NewBoolVar("")
                if k == 0:
                    m.Add(day >= first_lo).OnlyEnforceIf(present)
                    m.Add(day <= first_hi).OnlyEnforceIf([present, late.Not()])
                else:
                    p_prev, d_prev = chain[-1]
                    m.AddImplication(present, p_prev)
                    m.Add(day - d_prev >= lo_i).OnlyEnforceIf(present)
                    m.Add(day - d_prev <= hi_i).OnlyEnforceIf([present, late.Not()])
                m.AddImplication(late, present)
                score.append(-(ON_TIME - LATE) * late)
                stats["list"].append((plan["client"], "massage", k, present, day, late))
                chain.append((present, day))
                k += 1
            capped(plan["client"], "massage", [p for p, _ in chain])
        for o in plan["other"]:
            disc = discipline_name(o["discipline"])
            every, tol, anchor0, is_open, prev0 = other_chain(o, tol_days, day_of)
            length = o["minutes"]
            placed = []
            anchor = None
            k = 0
            while anchor0 + every * k < end or (is_open and k * every < end):
                if is_open:
                    if k == 0:
                        rng = range(0, min(end, max(every - 1, tol) + 1))
                    else:
                        rng = range(max(0, every * k - tol), min(end, every * k + max(every - 1, tol) + tol + 1))
                else:
                    due = anchor0 + every * k
                    if due >= end:
                        break
                    rng = range(max(0, due - tol), min(end, due + tol + 1))
                present, day = session(c_ix, base, disc, length, rng)
                if is_open:
                    if k == 0:
                        anchor = m.NewIntVar(0, end, "")
                        m.Add(anchor == day).OnlyEnforceIf(present)
                        m.Add(anchor == anchor0).OnlyEnforceIf(present.Not())
                        m.Add(day <= max(every - 1, tol)).OnlyEnforceIf(present)
                    else:
                        m.Add(anchor + every * k <= end - 1).OnlyEnforceIf(present)
                        m.Add(day >= anchor + every * k - tol).OnlyEnforceIf(present)
                        m.Add(day <= anchor + every * k + tol).OnlyEnforceIf(present)
                if prev0 is not None:
                    m.Add(day >= prev0 + every - tol).OnlyEnforceIf(present)
                for p_prev, d_prev in placed:
                    m.Add(day - d_prev >= every - tol).OnlyEnforceIf([present, p_prev])
                stats["list"].append((plan["client"], disc, k, present, day, None))
                placed.append((present, day))
                k += 1
            capped(plan["client"], disc, [p for p, _ in placed])
    for (p_i, d), ivs in prac_iv.items():
        m.AddNoOverlap(ivs)
    for (r_i, d), ivs in room_iv.items():
        # Class sessions that overlap in one studio take it once (as the planner removes their minutes).
        fixed = [m.NewFixedSizeIntervalVar(a, b - a, "") for a, b in normalize(room_class[r_i][d])]
        cap = rooms[r_i]["cap"]
        m.AddCumulative(ivs + fixed, [1] * len(ivs) + [cap] * len(fixed), cap)
    for (c_ix, d), ivs in client_iv.items():
        m.AddNoOverlap(ivs)
    for (c_i, d), xs in class_use.items():
        m.Add(sum(xs) <= classes[c_i]["places"])
    window = s["cap_window_days"]
    for c_ix, is_fibro in fibro.items():
        if not is_fibro:
            continue
        per_day = {d: visits.get((c_ix, d), []) for d in range(days)}
        if s["same_day_bundled_only"]:
            for d, ys in per_day.items():
                if len(ys) > 1:
                    m.Add(sum(ys) <= 1)
        for first in range(-(window - 1), days):
            ys = [y for d in range(max(0, first), min(days, first + window)) for y in per_day[d]]
            if len(ys) > s["weekly_cap"]:
                m.Add(sum(ys) <= s["weekly_cap"])
    m.Maximize(sum(score))
    return m, stats


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: model.py REQUEST.json SECONDS [WORKERS]")
    req = json.load(open(sys.argv[1]))
    seconds = float(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    t0 = time.time()
    m, stats = build(req)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 1
    status = solver.Solve(m)
    start = parse_date(req["start"])
    out = {
        "status": solver.StatusName(status),
        "objective": solver.ObjectiveValue() if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None,
        "bound": solver.BestObjectiveBound(),
        "seconds": time.time() - t0,
        "sessions": stats["sessions"],
    }
    if os.environ.get("CPSAT_SOLUTION") and out["objective"] is not None:
        out["solution"] = [
            [c, disc, k, (start + timedelta(solver.Value(day))).isoformat(), bool(late is not None and solver.Value(late))]
            for c, disc, k, present, day, late in stats["list"]
            if solver.Value(present)
        ]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
