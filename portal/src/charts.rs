//! Charts drawn on the server as SVG: no script, no library, readable
//! without colour (failures are marked by shape too) and with a text
//! alternative — the SVG's `<title>` and `<desc>`, and the same numbers as
//! a table under it (`rows`). Sizes are in the viewBox; the page scales it.

use std::fmt::Write as _;

use switchboard_core::model::Millis;
use switchboard_core::time::{format_date, format_ms};

const W: f64 = 640.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const ACCENT: &str = "#2f5bd3";
const BAD: &str = "#a32f2f";
const OK: &str = "#17683a";
const GRID: &str = "#e3e7ee";
const TEXT: &str = "#5f6b7a";

/// A chart and its numbers.
pub(crate) struct Chart {
    /// The `<svg>` element, escaped where it holds text.
    pub svg: String,
    /// Column headers of the table alternative.
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// What the chart shows, in words (also its `<desc>`).
    pub summary: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(id: &str, title: &str, desc: &str, height: f64) -> String {
    format!(
        r#"<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {W} {height}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    )
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, s: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="11" fill="{TEXT}" text-anchor="{anchor}">{}</text>"#,
        esc(s)
    );
}

/// Horizontal grid lines at `values` (placed by `y`), labelled on the left.
fn gridlines(svg: &mut String, values: &[f64], y: impl Fn(f64) -> f64) {
    for &v in values {
        let at = y(v);
        let _ = write!(svg, r#"<line x1="{LEFT}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="{GRID}"/>"#, W - RIGHT);
        text(svg, LEFT - 6.0, at + 4.0, "end", &value(v, ""));
    }
}

/// A score (0-100) over time, as steps: it holds each value until the next.
pub(crate) fn score_trend(id: &str, title: &str, points: &[(Millis, f64)], now: Millis) -> Option<Chart> {
    let (first, last) = (points.first()?, points.last()?);
    let (h, top, bottom) = (180.0, 10.0, 24.0);
    let (t0, t1) = (first.0, now.max(last.0 + 1));
    let x = |t: Millis| LEFT + (t - t0) as f64 / (t1 - t0) as f64 * (W - LEFT - RIGHT);
    let y = |v: f64| top + (100.0 - v.clamp(0.0, 100.0)) / 100.0 * (h - top - bottom);
    let summary = format!(
        "{} from {:.0} on {} to {:.0} now, {} change(s); lowest {:.0}, highest {:.0}.",
        title,
        first.1,
        format_date(first.0),
        last.1,
        points.len().saturating_sub(1),
        points.iter().map(|p| p.1).fold(f64::MAX, f64::min),
        points.iter().map(|p| p.1).fold(f64::MIN, f64::max)
    );
    let mut svg = open(id, title, &summary, h);
    gridlines(&mut svg, &[0.0, 50.0, 100.0], y);
    let mut d = format!("M{:.1},{:.1}", x(first.0), y(first.1));
    for w in points.windows(2) {
        let _ = write!(d, " H{:.1} V{:.1}", x(w[1].0), y(w[1].1));
    }
    let _ = write!(d, " H{:.1}", x(t1));
    let _ = write!(svg, r#"<path d="{d}" fill="none" stroke="{ACCENT}" stroke-width="2"/>"#);
    for (t, v) in points {
        let _ = write!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{ACCENT}"/>"#, x(*t), y(*v));
    }
    text(&mut svg, LEFT, h - 6.0, "start", &format_date(t0));
    text(&mut svg, W - RIGHT, h - 6.0, "end", &format_date(t1));
    svg.push_str("</svg>");
    let rows = points.iter().map(|(t, v)| vec![format_ms(*t), format!("{v:.0}")]).collect();
    Some(Chart { svg, headers: vec!["When", "Score"], rows, summary })
}

/// One bar per item, in order (oldest first), failures red and hatched
/// with a cross above them so colour is not the only sign.
pub(crate) fn bars(id: &str, title: &str, unit: &str, items: &[(String, f64, bool)]) -> Option<Chart> {
    if items.is_empty() {
        return None;
    }
    let (h, top, bottom) = (170.0, 14.0, 22.0);
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1.0);
    let slot = (W - LEFT - RIGHT) / items.len() as f64;
    let y = |v: f64| top + (1.0 - v / max) * (h - top - bottom);
    let failed = items.iter().filter(|i| i.2).count();
    let summary = format!("{title}: {} bars, longest {:.0} {unit}, {failed} failed (marked ×).", items.len(), max);
    let mut svg = open(id, title, &summary, h);
    gridlines(&mut svg, &[0.0, max / 2.0, max], y);
    for (i, (_, v, bad)) in items.iter().enumerate() {
        let bx = LEFT + i as f64 * slot + slot * 0.15;
        let bw = (slot * 0.7).max(1.0);
        let colour = if *bad { BAD } else { OK };
        let _ = write!(
            svg,
            r#"<rect x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{colour}"/>"#,
            y(*v),
            (h - bottom) - y(*v)
        );
        if *bad {
            text(&mut svg, bx + bw / 2.0, y(*v) - 3.0, "middle", "×");
        }
    }
    text(&mut svg, LEFT, h - 6.0, "start", &items[0].0);
    text(&mut svg, W - RIGHT, h - 6.0, "end", &items[items.len() - 1].0);
    svg.push_str("</svg>");
    let rows = items
        .iter()
        .map(|(l, v, bad)| vec![l.clone(), format!("{v:.0} {unit}"), if *bad { "failed" } else { "ok" }.into()])
        .collect();
    Some(Chart { svg, headers: vec!["When", "Value", "Outcome"], rows, summary })
}

/// Horizontal bars: how many of something each label has, largest first.
pub(crate) fn distribution(id: &str, title: &str, unit: &str, items: &[(String, u64)]) -> Option<Chart> {
    if items.is_empty() {
        return None;
    }
    let row = 20.0;
    let h = 8.0 + row * items.len() as f64;
    let label_w = 150.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(1).max(1) as f64;
    let total: u64 = items.iter().map(|i| i.1).sum();
    let summary = format!(
        "{title}: {} values over {total} {unit}; the most common is {} ({}).",
        items.len(),
        items[0].0,
        items[0].1
    );
    let mut svg = open(id, title, &summary, h);
    for (i, (label, n)) in items.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        text(&mut svg, label_w - 6.0, y + 14.0, "end", label);
        let w = (*n as f64 / max) * (W - label_w - 60.0);
        let _ = write!(
            svg,
            r#"<rect x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{ACCENT}"/>"#,
            y + 3.0,
            row - 6.0
        );
        text(&mut svg, label_w + w + 4.0, y + 14.0, "start", &n.to_string());
    }
    svg.push_str("</svg>");
    let rows = items.iter().map(|(l, n)| vec![l.clone(), n.to_string()]).collect();
    Some(Chart { svg, headers: vec!["Version", "Projects"], rows, summary })
}

/// Deployments on a time line, a lane per environment: a dot per
/// deployment, a red cross for a failed one.
pub(crate) fn timeline(
    id: &str,
    title: &str,
    lanes: &[String],
    points: &[(usize, Millis, String, bool)],
    now: Millis,
) -> Option<Chart> {
    if points.is_empty() || lanes.is_empty() {
        return None;
    }
    let lane_h = 28.0;
    let (top, bottom, label_w) = (6.0, 22.0, 96.0);
    let h = top + bottom + lane_h * lanes.len() as f64;
    let t0 = points.iter().map(|p| p.1).min().unwrap_or(now);
    let t1 = now.max(t0 + 1);
    let x = |t: Millis| label_w + (t - t0) as f64 / (t1 - t0) as f64 * (W - label_w - RIGHT);
    let failed = points.iter().filter(|p| p.3).count();
    let summary =
        format!("{title}: {} deployments to {} environments, {failed} failed (marked ×).", points.len(), lanes.len());
    let mut svg = open(id, title, &summary, h);
    for (i, lane) in lanes.iter().enumerate() {
        let y = top + lane_h * i as f64 + lane_h / 2.0;
        let _ = write!(svg, r#"<line x1="{label_w}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{GRID}"/>"#, W - RIGHT);
        text(&mut svg, label_w - 6.0, y + 4.0, "end", lane);
    }
    for (lane, t, _, bad) in points {
        let y = top + lane_h * *lane as f64 + lane_h / 2.0;
        if *bad {
            let (cx, s) = (x(*t), 5.0);
            let _ = write!(
                svg,
                r#"<path d="M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}" stroke="{BAD}" stroke-width="2.5"/>"#,
                cx - s,
                y - s,
                cx + s,
                y + s,
                cx - s,
                y + s,
                cx + s,
                y - s
            );
        } else {
            let _ = write!(svg, r#"<circle cx="{:.1}" cy="{y:.1}" r="4.5" fill="{OK}"/>"#, x(*t));
        }
    }
    text(&mut svg, label_w, h - 6.0, "start", &format_date(t0));
    text(&mut svg, W - RIGHT, h - 6.0, "end", &format_date(t1));
    svg.push_str("</svg>");
    let rows = points
        .iter()
        .map(|(lane, t, version, bad)| {
            vec![format_ms(*t), lanes[*lane].clone(), version.clone(), if *bad { "failed" } else { "succeeded" }.into()]
        })
        .collect();
    Some(Chart { svg, headers: vec!["When", "Environment", "Version", "Outcome"], rows, summary })
}

/// One line of a `lines` chart: its name (a table column too) and a value
/// per period, `None` where there is nothing to measure (a gap).
pub(crate) struct Series {
    pub name: &'static str,
    pub values: Vec<Option<f64>>,
}

/// Values per period as lines, one per series (the first drawn with dots,
/// the second with squares, so they differ without colour), with optional
/// reference lines (`marks`: a value and its label, e.g. a band's edge).
pub(crate) fn lines(
    id: &str,
    title: &str,
    unit: &str,
    labels: &[String],
    series: &[Series],
    marks: &[(f64, &str)],
) -> Option<Chart> {
    let known: Vec<f64> = series.iter().flat_map(|s| s.values.iter().flatten().copied()).collect();
    if labels.is_empty() || known.is_empty() {
        return None;
    }
    let (h, top, bottom) = (190.0, 22.0, 22.0);
    let highest = known.iter().copied().fold(0.0, f64::max);
    // A reference line widens the scale only when it is near the values.
    let max = marks.iter().map(|m| m.0).filter(|m| *m <= highest * 2.0).fold(highest, f64::max).max(f64::EPSILON);
    let slot = (W - LEFT - RIGHT) / labels.len() as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let y = |v: f64| top + (1.0 - v / max) * (h - top - bottom);
    let colours = [ACCENT, BAD, OK];
    let last = |s: &Series| s.values.iter().rev().flatten().next().copied();
    let now: Vec<String> =
        series.iter().map(|s| format!("{} {}", s.name, last(s).map_or("—".to_owned(), |v| value(v, unit)))).collect();
    let summary = format!("{title}, {} periods; the latest: {}.", labels.len(), now.join(", "));
    let mut svg = open(id, title, &summary, h);
    gridlines(&mut svg, &[0.0, max / 2.0, max], y);
    for (v, label) in marks.iter().filter(|m| m.0 <= max) {
        let at = y(*v);
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="{TEXT}" stroke-dasharray="4 3"/>"#,
            W - RIGHT
        );
        text(&mut svg, W - RIGHT, at - 3.0, "end", label);
    }
    for (n, s) in series.iter().enumerate() {
        let colour = colours[n % colours.len()];
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(svg, r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#, d.trim_end());
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let (cx, cy) = (x(i), y(*v));
            if n % 2 == 0 {
                let _ = write!(svg, r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{colour}"/>"#);
            } else {
                let _ = write!(
                    svg,
                    r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{colour}"/>"#,
                    cx - 3.5,
                    cy - 3.5
                );
            }
        }
        if series.len() > 1 {
            text(
                &mut svg,
                LEFT + 4.0 + 150.0 * n as f64,
                12.0,
                "start",
                &format!("{} {}", if n % 2 == 0 { "●" } else { "■" }, s.name),
            );
        }
    }
    text(&mut svg, x(0), h - 6.0, "middle", &labels[0]);
    if labels.len() > 1 {
        text(&mut svg, x(labels.len() - 1), h - 6.0, "middle", &labels[labels.len() - 1]);
    }
    svg.push_str("</svg>");
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut row = vec![l.clone()];
            row.extend(series.iter().map(|s| s.values[i].map_or("—".to_owned(), |v| value(v, unit))));
            row
        })
        .collect();
    let mut headers = vec!["Period"];
    headers.extend(series.iter().map(|s| s.name));
    Some(Chart { svg, headers, rows, summary })
}

/// A value with its unit, as few decimals as it needs.
fn value(v: f64, unit: &str) -> String {
    let n = if v >= 100.0 || v == v.trunc() { format!("{v:.0}") } else { format!("{v:.2}") };
    if unit.is_empty() { n } else { format!("{n} {unit}") }
}

/// A project's dependency neighbourhood as a graph: the project in the
/// middle, its packages around it, and around those the other projects
/// that share the most of them, each joined to the packages it shares.
pub(crate) fn neighbourhood(
    id: &str,
    center: &str,
    packages: &[(String, u64)],
    neighbours: &[(String, Vec<usize>)],
) -> Option<Chart> {
    if packages.is_empty() {
        return None;
    }
    let h = 420.0;
    let (cx, cy) = (W / 2.0, h / 2.0);
    let at = |n: usize, of: usize, rx: f64, ry: f64, turn: f64| {
        let a = std::f64::consts::TAU * (n as f64 + turn) / of.max(1) as f64 - std::f64::consts::FRAC_PI_2;
        (cx + rx * a.cos(), cy + ry * a.sin())
    };
    let inner: Vec<(f64, f64)> = (0..packages.len()).map(|n| at(n, packages.len(), 150.0, 95.0, 0.0)).collect();
    let outer: Vec<(f64, f64)> = (0..neighbours.len()).map(|n| at(n, neighbours.len(), 290.0, 185.0, 0.5)).collect();
    let summary = format!(
        "{center} uses {} package(s) shown here; {} other project(s) share the most of them: {}.",
        packages.len(),
        neighbours.len(),
        neighbours.iter().map(|(p, s)| format!("{p} ({})", s.len())).collect::<Vec<_>>().join(", ")
    );
    let mut svg = open(id, &format!("Dependency neighbourhood of {center}"), &summary, h);
    let line = |svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64)| {
        let _ = write!(
            svg,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{GRID}" stroke-width="1.5"/>"#
        );
    };
    for p in &inner {
        line(&mut svg, (cx, cy), *p);
    }
    for (n, (_, shared)) in neighbours.iter().enumerate() {
        for s in shared.iter().filter_map(|s| inner.get(*s)) {
            line(&mut svg, *s, outer[n]);
        }
    }
    let node = |svg: &mut String, (x, y): (f64, f64), r: f64, fill: &str, label: &str| {
        let _ = write!(svg, r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{fill}"/>"#);
        text(svg, x, y + r + 11.0, "middle", label);
    };
    for (n, (name, _)) in neighbours.iter().enumerate() {
        node(&mut svg, outer[n], 6.0, OK, name);
    }
    for (n, (name, _)) in packages.iter().enumerate() {
        node(&mut svg, inner[n], 5.0, TEXT, name);
    }
    node(&mut svg, (cx, cy), 9.0, ACCENT, center);
    svg.push_str("</svg>");
    let mut rows: Vec<Vec<String>> =
        packages.iter().map(|(p, n)| vec!["package".into(), p.clone(), format!("used by {n} project(s)")]).collect();
    rows.extend(neighbours.iter().map(|(p, shared)| {
        let names: Vec<&str> = shared.iter().filter_map(|s| packages.get(*s)).map(|p| p.0.as_str()).collect();
        vec!["project".into(), p.clone(), format!("shares {}", names.join(", "))]
    }));
    Some(Chart { svg, headers: vec!["Kind", "Name", "Link"], rows, summary })
}
