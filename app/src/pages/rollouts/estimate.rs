//! The estimated timeline of the plan being edited, worked out in the browser by the domain's
//! own `estimate` as the plan changes: when each phase (and Gradual step) starts, how long it
//! takes at least, and whom it waits for.

use leptos::prelude::*;
use varai_domain::plan::estimate;

use super::draft::{Draft, duration_text};

#[component]
pub fn EstimateView(d: Draft, analysis: StoredValue<Vec<(String, u32)>>) -> impl IntoView {
    let rows = Memo::new(move |_| {
        d.edits.track();
        let known = analysis.get_value();
        let seconds = |name: &str| {
            known
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| *s)
                .unwrap_or(0)
        };
        d.read(|p| estimate(p, &seconds))
    });
    view! {
        <section class="card" aria-labelledby="estimate-h" data-testid="estimate">
            <h2 id="estimate-h">"Estimated timeline"</h2>
            {move || {
                let rows = rows.get();
                let total: u64 = rows.iter().map(|r| r.seconds).sum();
                let people: usize = rows.iter().map(|r| r.waits_for.len()).sum();
                let scale = total.max(1) as f64;
                let items = rows
                    .into_iter()
                    .map(|r| {
                        let left = r.starts_at as f64 * 100.0 / scale;
                        let width = (r.seconds as f64 * 100.0 / scale).max(0.8);
                        let waits = (!r.waits_for.is_empty()).then(|| {
                            view! { <span class="waits">{format!("waits for {}", r.waits_for.join("; "))}</span> }
                        });
                        view! {
                            <li>
                                <span class="estimate-label">{r.label.clone()}</span>
                                <span class="estimate-when">{format!("+{} · {}", duration_text(r.starts_at), duration_text(r.seconds))}</span>
                                <span class="estimate-track" aria-hidden="true">
                                    <span class="estimate-bar" style=format!("left: {left:.2}%; width: {width:.2}%")></span>
                                </span>
                                {waits}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="estimate-total">
                        <strong>{format!("At least {}", duration_text(total))}</strong>
                        {(people > 0).then(|| format!(", plus the time {people} approval{} or decision{} take", if people == 1 { "" } else { "s" }, if people == 1 { "" } else { "s" }))}
                    </p>
                    <ol class="estimate">{items}</ol>
                }
            }}
        </section>
    }
}
