//! Bar charts drawn by the service: the geometry of an SVG computed here, drawn by the
//! `staff/_chart.html` macro (autoescaped like every page), with a title, a description and
//! the numbers as a table, so the chart needs no script and reads without sight.

use serde::Serialize;

/// Width and height of the drawing area, in SVG user units.
const WIDTH: f64 = 640.0;
const PLOT: f64 = 160.0;
/// Room under the bars for the column labels.
const AXIS: f64 = 22.0;
/// Room above the bars for the largest value.
const TOP: f64 = 14.0;

/// One named series ("Confirmed"), drawn in its own colour (`fd-series-1` …).
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub class: String,
}

/// A bar: where it is drawn and the number it stands for.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub value: i64,
    pub series: String,
    pub class: String,
}

/// One column: its label (shown under the axis when `show_label`), its bars, and the
/// list behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub label: String,
    pub label_x: f64,
    pub show_label: bool,
    pub href: Option<String>,
    pub bars: Vec<Bar>,
}

/// A grouped bar chart ready to draw.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// Unique within the page (ids of its title and description).
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: f64,
    pub height: f64,
    pub baseline: f64,
    pub max: i64,
    pub series: Vec<Series>,
    pub columns: Vec<Column>,
}

/// The numbers of one column, one per series, in the series' order.
pub struct Values {
    pub label: String,
    pub href: Option<String>,
    pub values: Vec<i64>,
}

/// Lays out `columns` (each with one value per series in `series`) as grouped bars, showing
/// about `labels` column labels under the axis.
pub fn bars(
    id: &str,
    title: &str,
    description: &str,
    series: &[&str],
    columns: Vec<Values>,
    labels: usize,
) -> Chart {
    let max = columns
        .iter()
        .flat_map(|c| c.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = columns.len().max(1);
    let column_width = WIDTH / n as f64;
    let group = column_width * 0.8;
    let bar_width = group / series.len().max(1) as f64;
    let every = n.div_ceil(labels.max(1)).max(1);
    let baseline = TOP + PLOT;
    let series: Vec<Series> = series
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            name: (*name).to_string(),
            class: format!("fd-series-{}", i + 1),
        })
        .collect();
    let columns = columns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let left = i as f64 * column_width + (column_width - group) / 2.0;
            let bars = c
                .values
                .iter()
                .zip(&series)
                .enumerate()
                .map(|(j, (&value, s))| {
                    let height = round(PLOT * value.max(0) as f64 / max as f64);
                    Bar {
                        x: round(left + j as f64 * bar_width),
                        y: round(baseline - height),
                        width: round((bar_width - 1.0).max(1.0)),
                        height,
                        value,
                        series: s.name.clone(),
                        class: s.class.clone(),
                    }
                })
                .collect();
            Column {
                label: c.label,
                label_x: round(i as f64 * column_width + column_width / 2.0),
                show_label: i % every == 0 || i + 1 == n,
                href: c.href,
                bars,
            }
        })
        .collect();
    Chart {
        id: id.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        width: WIDTH,
        height: baseline + AXIS,
        baseline,
        max,
        series,
        columns,
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_sit_on_the_baseline() {
        let chart = bars(
            "c",
            "Votes",
            "Votes per day",
            &["Helpful", "Not helpful"],
            vec![
                Values {
                    label: "1 Dec".into(),
                    href: None,
                    values: vec![10, 5],
                },
                Values {
                    label: "2 Dec".into(),
                    href: None,
                    values: vec![0, 20],
                },
            ],
            10,
        );
        assert_eq!(chart.max, 20);
        let tallest = &chart.columns[1].bars[1];
        assert_eq!(tallest.height, PLOT);
        assert_eq!(tallest.y + tallest.height, chart.baseline);
        assert_eq!(chart.columns[0].bars[0].height, PLOT / 2.0);
        assert_eq!(chart.columns[1].bars[0].height, 0.0);
        assert!(chart.columns.iter().all(|c| c.show_label));
        assert_eq!(chart.series[1].class, "fd-series-2");
    }

    #[test]
    fn an_empty_chart_still_draws() {
        let chart = bars("e", "None", "Nothing yet", &["A"], Vec::new(), 5);
        assert_eq!(chart.max, 1);
        assert!(chart.columns.is_empty());
    }
}
