//! Charts that stay current: the first request draws the whole range, then every scrape
//! interval the browser asks only for the points after the last one and appends them, dropping
//! what fell out of the range.

use leptos::prelude::*;

use super::ChartCard;
use varai_core::error::AppError;
use varai_core::monitor::{Chart, ChartSet, TimeRange};

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/charts")]
pub async fn chart_data(
    env: String,
    app: String,
    range: String,
    since: Option<f64>,
) -> Result<ChartSet, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let range = TimeRange::from_key(&range).unwrap_or_default();
    varai_core::monitor::charts(&services, &who, &env, &app, range, since).await
}

/// Appends `update` (points after `set.end`) to `set`, keeping `range_s` seconds.
pub fn merge(set: &mut ChartSet, update: ChartSet, range_s: f64) {
    if update.end <= set.end {
        return;
    }
    let keep_from = update.end - range_s;
    for new in update.charts {
        let Some(chart) = set.charts.iter_mut().find(|c| c.key == new.key) else {
            set.charts.push(new);
            continue;
        };
        chart.error = new.error;
        for s in new.series {
            match chart.series.iter_mut().find(|x| x.label == s.label) {
                Some(old) => {
                    let last = old.points.last().map_or(f64::MIN, |p| p.0);
                    old.points
                        .extend(s.points.into_iter().filter(|p| p.0 > last));
                }
                None => chart.series.push(s),
            }
        }
        for s in &mut chart.series {
            s.points.retain(|p| p.0 >= keep_from);
        }
        chart.series.retain(|s| !s.points.is_empty());
        chart.series.sort_by(|a, b| a.label.cmp(&b.label));
    }
    set.start = keep_from;
    set.end = update.end;
}

/// The charts of one app, live. `only` limits them to some keys (`requests`, `errors`, ...).
#[component]
pub fn LiveCharts(
    env: String,
    app: String,
    #[prop(into)] range: Signal<TimeRange>,
    #[prop(optional)] only: Option<Vec<&'static str>>,
    /// Seconds between updates: the scrape interval.
    #[prop(default = 1)]
    every: u32,
) -> impl IntoView {
    let data = RwSignal::new(None::<Result<ChartSet, AppError>>);
    let busy = StoredValue::new(false);
    let (env_v, app_v) = (StoredValue::new(env), StoredValue::new(app));
    let fetch = move |full: bool| {
        if busy.get_value() {
            return;
        }
        let r = range.get_untracked();
        let since = if full {
            None
        } else {
            data.with_untracked(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|s| s.end))
        };
        busy.set_value(true);
        let (env, app) = (env_v.get_value(), app_v.get_value());
        leptos::task::spawn_local(async move {
            let got = chart_data(env, app, r.key().into(), since).await;
            // The chart may have gone while the answer was on its way.
            if data.is_disposed() || busy.is_disposed() {
                return;
            }
            busy.set_value(false);
            if range.try_get_untracked() != Some(r) {
                return;
            }
            match (got, since) {
                (Ok(update), Some(_)) => data.update(|d| match d {
                    Some(Ok(set)) => merge(set, update, r.seconds() as f64),
                    other => *other = Some(Ok(update)),
                }),
                (got, _) => data.set(Some(got)),
            }
        });
    };
    // A new range redraws everything; otherwise only new points are fetched.
    Effect::new(move |_| {
        let _ = range.get();
        busy.set_value(false);
        fetch(true);
    });
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || fetch(false),
            std::time::Duration::from_secs(u64::from(every.max(1))),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let only = StoredValue::new(only);
    let keys = move || {
        data.with(|d| match d {
            Some(Ok(set)) => set
                .charts
                .iter()
                .map(|c| c.key.clone())
                .filter(|k| only.with_value(|o| o.as_ref().is_none_or(|o| o.contains(&k.as_str()))))
                .collect(),
            _ => Vec::new(),
        })
    };
    let window = Signal::derive(move || {
        data.with(|d| match d {
            Some(Ok(s)) => (s.end - range.get().seconds() as f64, s.end),
            _ => (0.0, 1.0),
        })
    });
    view! {
        {move || match data.get() {
            None => Some(view! { <p class="muted">"Reading metrics…"</p> }.into_any()),
            Some(Err(e)) => Some(view! { <crate::components::ErrorNote error=e/> }.into_any()),
            Some(Ok(_)) => None,
        }}
        <div class="chart-grid">
            <For each=keys key=|k| k.clone() let:key>
                {
                    let chart = Signal::derive(move || {
                        data.with(|d| match d {
                            Some(Ok(s)) => s.charts.iter().find(|c| c.key == key).cloned(),
                            _ => None,
                        })
                        .unwrap_or_else(|| Chart {
                            key: key.clone(),
                            title: String::new(),
                            unit: String::new(),
                            series: Vec::new(),
                            error: None,
                            threshold: None,
                        })
                    });
                    view! { <ChartCard chart window/> }
                }
            </For>
        </div>
    }
}
