//! Half-open intervals of minutes within one day, `[start, end)`, kept as
//! sorted, disjoint, non-touching lists.

/// One interval of minutes since midnight, `start` inclusive, `end` exclusive.
pub(crate) type Iv = (u16, u16);

/// Sorts and merges overlapping or touching intervals; drops empty ones.
pub(crate) fn normalize(mut v: Vec<Iv>) -> Vec<Iv> {
    v.retain(|&(s, e)| s < e);
    v.sort_unstable();
    let mut out: Vec<Iv> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The intersection of two normalized lists.
pub(crate) fn intersect(a: &[Iv], b: &[Iv]) -> Vec<Iv> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].0.max(b[j].0);
        let e = a[i].1.min(b[j].1);
        if s < e {
            out.push((s, e));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `free` minus one interval.
pub(crate) fn remove(free: &mut Vec<Iv>, (s, e): Iv) {
    if s >= e {
        return;
    }
    let mut out = Vec::with_capacity(free.len() + 1);
    for &(fs, fe) in free.iter() {
        if fe <= s || fs >= e {
            out.push((fs, fe));
            continue;
        }
        if fs < s {
            out.push((fs, s));
        }
        if e < fe {
            out.push((e, fe));
        }
    }
    *free = out;
}

/// Whether `[s, e)` lies inside one interval of a normalized list.
pub(crate) fn contains(free: &[Iv], (s, e): Iv) -> bool {
    free.iter().any(|&(fs, fe)| fs <= s && e <= fe)
}

/// Whether `[s, e)` overlaps any interval of a list.
pub(crate) fn overlaps(list: &[Iv], (s, e): Iv) -> bool {
    list.iter().any(|&(ls, le)| ls < e && s < le)
}

/// The earliest start, a multiple of `step` minutes after midnight, at which
/// `len` minutes fit inside one interval of `free`.
pub(crate) fn first_fit(free: &[Iv], len: u16, step: u16) -> Option<u16> {
    free.iter().find_map(|&(fs, fe)| {
        let s = fs.div_ceil(step) * step;
        (u32::from(s) + u32::from(len) <= u32::from(fe)).then_some(s)
    })
}

/// The times at which fewer than `capacity` of the `used` intervals run,
/// within `base` (normalized).
pub(crate) fn below_capacity(base: &[Iv], used: &[Iv], capacity: u16) -> Vec<Iv> {
    if used.is_empty() {
        return base.to_vec();
    }
    let mut events: Vec<(u16, i32)> = Vec::with_capacity(used.len() * 2);
    for &(s, e) in used {
        events.push((s, 1));
        events.push((e, -1));
    }
    // Ends before starts at the same minute: back-to-back use is not overlap.
    events.sort_unstable();
    let mut full: Vec<Iv> = Vec::new();
    let mut load = 0i32;
    let mut since = 0u16;
    for (t, d) in events {
        let before = load;
        load += d;
        if before < i32::from(capacity) && load >= i32::from(capacity) {
            since = t;
        } else if before >= i32::from(capacity) && load < i32::from(capacity) {
            full.push((since, t));
        }
    }
    let mut free = base.to_vec();
    for iv in normalize(full) {
        remove(&mut free, iv);
    }
    free
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_algebra() {
        fn check(actual: Vec<Iv>, expected: &[Iv]) {
            assert_eq!(actual, expected);
        }
        check(normalize(vec![(60, 120), (0, 30), (30, 45), (100, 130), (200, 200)]), &[(0, 45), (60, 130)]);
        check(intersect(&[(0, 100), (200, 300)], &[(50, 250)]), &[(50, 100), (200, 250)]);
        check(intersect(&[(0, 100)], &[(100, 200)]), &[]);
        let mut f = vec![(0, 100), (200, 300)];
        remove(&mut f, (50, 250));
        check(f, &[(0, 50), (250, 300)]);
        let mut f = vec![(0, 100)];
        remove(&mut f, (20, 30));
        check(f, &[(0, 20), (30, 100)]);
        check(below_capacity(&[(0, 600)], &[(60, 120), (90, 150)], 2), &[(0, 90), (120, 600)]);
        check(below_capacity(&[(0, 600)], &[(60, 120), (120, 180)], 1), &[(0, 60), (180, 600)]);
        check(below_capacity(&[(0, 600)], &[(60, 120)], 2), &[(0, 600)]);
    }

    #[test]
    fn fits() {
        fn check(free: &[Iv], len: u16, step: u16, expected: Option<u16>) {
            assert_eq!(first_fit(free, len, step), expected, "{free:?} {len} {step}");
        }
        check(&[(0, 30)], 30, 15, Some(0));
        check(&[(5, 35)], 30, 15, None);
        check(&[(5, 35), (40, 100)], 30, 15, Some(45));
        check(&[(540, 600)], 50, 15, Some(540));
        check(&[], 10, 15, None);
        assert!(contains(&[(0, 60)], (10, 60)));
        assert!(!contains(&[(0, 30), (40, 60)], (20, 50)));
        assert!(overlaps(&[(0, 30)], (29, 40)));
        assert!(!overlaps(&[(0, 30)], (30, 40)));
    }
}
