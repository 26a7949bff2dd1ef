//! SVG line charts drawn by our own components: axes with units, a legend whose lines differ
//! in colour and in dash pattern, an optional threshold, and the values at the pointer on
//! hover. `live` keeps a set of charts current by asking only for new points.

pub mod live;
mod scale;

use leptos::prelude::*;

use scale::{Scale, clock, nice_ticks, number};
use varai_core::monitor::{Chart, Series};

const W: f64 = 600.0;
const H: f64 = 210.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 26.0;

/// Colour and dash pattern of the n-th line: both differ, so lines stay apart without colour.
pub fn line_style(i: usize) -> (&'static str, &'static str) {
    const COLOURS: [&str; 6] = [
        "#1f4fd1", "#c2410c", "#0f766e", "#7c3aed", "#b91c1c", "#4d7c0f",
    ];
    const DASHES: [&str; 6] = ["", "7 4", "2 3", "10 3 2 3", "1 4", "12 6"];
    (COLOURS[i % COLOURS.len()], DASHES[i % DASHES.len()])
}

fn path(series: &Series, x: &Scale, y: &Scale, gap: f64) -> String {
    let mut d = String::new();
    let mut last: Option<f64> = None;
    for (t, v) in &series.points {
        let cmd = if last.is_some_and(|l| t - l <= gap) {
            'L'
        } else {
            'M'
        };
        d.push_str(&format!("{cmd}{:.1},{:.1} ", x.at(*t), y.at(*v)));
        last = Some(*t);
    }
    d
}

/// The value of each series nearest to time `t`.
fn values_at(chart: &Chart, t: f64) -> (f64, Vec<(usize, String, f64)>) {
    let mut when = t;
    let values = chart
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let p = s
                .points
                .iter()
                .min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs()))?;
            when = p.0;
            Some((i, s.label.clone(), p.1))
        })
        .collect();
    (when, values)
}

/// One chart over `window` (start, end in seconds since the epoch).
#[component]
pub fn LineChart(
    #[prop(into)] chart: Signal<Chart>,
    #[prop(into)] window: Signal<(f64, f64)>,
) -> impl IntoView {
    let hover = RwSignal::new(None::<f64>);
    let geometry = move || {
        let c = chart.get();
        let (start, end) = window.get();
        let top = c
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(c.threshold)
            .fold(0.0_f64, f64::max);
        let ticks = nice_ticks(top);
        let y = Scale::new(0.0, *ticks.last().unwrap_or(&1.0), H - BOTTOM, TOP);
        let x = Scale::new(start, end.max(start + 1.0), LEFT, W - RIGHT);
        (c, ticks, x, y)
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let el = event_target::<leptos::web_sys::HtmlElement>(&ev);
        let width = f64::from(el.offset_width()).max(1.0);
        let vx = f64::from(ev.offset_x()) / width * W;
        let (start, end) = window.get_untracked();
        let x = Scale::new(start, end.max(start + 1.0), LEFT, W - RIGHT);
        hover.set((LEFT..=W - RIGHT).contains(&vx).then(|| x.invert(vx)));
    };
    view! {
        <div class="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img"
                aria-label=move || { let c = chart.get(); format!("{} in {}, by version", c.title, c.unit) }>
                {move || {
                    let (c, ticks, x, y) = geometry();
                    let grid = ticks.iter().map(|v| view! {
                        <line class="grid" x1=LEFT x2=W - RIGHT y1=y.at(*v) y2=y.at(*v)/>
                        <text class="tick" x=LEFT - 6.0 y=y.at(*v) + 4.0 text-anchor="end">{number(*v)}</text>
                    }).collect_view();
                    let (start, end) = window.get();
                    let xticks = (0..=4).map(|i| {
                        let t = start + (end - start) * f64::from(i) / 4.0;
                        let anchor = match i { 0 => "start", 4 => "end", _ => "middle" };
                        view! { <text class="tick" x=x.at(t) y=H - 8.0 text-anchor=anchor>{clock(t)}</text> }
                    }).collect_view();
                    let gap = ((end - start) / 100.0).max(3.0);
                    let lines = c.series.iter().enumerate().map(|(i, s)| {
                        let (colour, dash) = line_style(i);
                        view! { <path class="line" d=path(s, &x, &y, gap) stroke=colour stroke-dasharray=dash/> }
                    }).collect_view();
                    let threshold = c.threshold.map(|t| view! {
                        <line class="threshold" x1=LEFT x2=W - RIGHT y1=y.at(t) y2=y.at(t)/>
                        <text class="tick threshold-label" x=W - RIGHT - 4.0 y=y.at(t) - 4.0 text-anchor="end">{format!("threshold {}", number(t))}</text>
                    });
                    let rule = hover.get().map(|t| view! { <line class="hover-rule" x1=x.at(t) x2=x.at(t) y1=TOP y2=H - BOTTOM/> });
                    view! {
                        {grid}{xticks}
                        <text class="unit" x=LEFT - 6.0 y=12.0 text-anchor="end">{c.unit.clone()}</text>
                        {threshold}{lines}{rule}
                    }
                }}
            </svg>
            <div class="chart-hit" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></div>
            {move || hover.get().and_then(|t| {
                let c = chart.get();
                let (when, values) = values_at(&c, t);
                if values.is_empty() { return None; }
                let (start, end) = window.get();
                let pct = ((when - start) / (end - start).max(1.0) * 100.0).clamp(0.0, 100.0);
                let side = if pct > 60.0 { "right: 0" } else { "left: 0" };
                let rows = values.into_iter().map(|(i, label, v)| {
                    let (colour, _) = line_style(i);
                    view! { <li><span class="swatch" style=format!("background: {colour}")></span>{label}": "<strong>{format!("{} {}", number(v), c.unit)}</strong></li> }
                }).collect_view();
                Some(view! {
                    <div class="chart-tip" role="status" style=side>
                        <span class="small">{clock(when)}</span>
                        <ul>{rows}</ul>
                    </div>
                })
            })}
        </div>
    }
}

/// A chart with its title, legend (latest value of each line) and any error.
#[component]
pub fn ChartCard(
    #[prop(into)] chart: Signal<Chart>,
    #[prop(into)] window: Signal<(f64, f64)>,
) -> impl IntoView {
    let legend = move || {
        chart
            .get()
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (colour, dash) = line_style(i);
                let unit = chart.with(|c| c.unit.clone());
                let latest = s
                    .points
                    .last()
                    .map(|p| format!(" {} {unit}", number(p.1)))
                    .unwrap_or_else(|| " –".into());
                view! {
                    <li>
                        <svg class="legend-line" viewBox="0 0 28 8" aria-hidden="true">
                            <line x1="0" y1="4" x2="28" y2="4" stroke=colour stroke-dasharray=dash/>
                        </svg>
                        <span>{s.label.clone()}</span>
                        <span class="muted">{latest}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <figure class="card chart-card" data-testid=move || format!("chart-{}", chart.get().key)>
            <figcaption>
                <strong>{move || chart.get().title}</strong>
                <span class="muted small">{move || format!(" ({})", chart.get().unit)}</span>
            </figcaption>
            {move || chart.get().error.map(|e| view! { <p class="notice error small" role="alert">{e}</p> })}
            {move || (chart.get().series.is_empty() && chart.get().error.is_none())
                .then(|| view! { <p class="muted small">"No data in this range yet."</p> })}
            <LineChart chart window/>
            <ul class="legend">{legend}</ul>
        </figure>
    }
}
