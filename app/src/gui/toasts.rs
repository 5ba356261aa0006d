//! Notifications in the window's lower right corner: what finished, what
//! was saved or copied, what failed. News goes by itself after a few
//! seconds; a failure stays until it is closed.

use std::time::{Duration, Instant};

/// How long a notice of news stays.
const NEWS_STAYS: Duration = Duration::from_secs(6);

/// Notices shown at most at once (the oldest go first).
const MOST_SHOWN: usize = 5;

/// One notice.
#[derive(Debug, Clone)]
pub struct Toast {
    /// What it says.
    pub text: String,
    /// A failure (stays until closed) rather than news.
    pub failure: bool,
    shown_at: Instant,
}

/// The notices on screen.
#[derive(Debug, Default)]
pub struct Toasts {
    shown: Vec<Toast>,
}

impl Toasts {
    /// Shows news, which goes by itself.
    pub fn news(&mut self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    /// Shows a failure, which stays until closed.
    pub fn failure(&mut self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    fn push(&mut self, text: String, failure: bool) {
        // The same words again refresh the notice instead of stacking it.
        self.shown.retain(|t| t.text != text);
        self.shown.push(Toast {
            text,
            failure,
            shown_at: Instant::now(),
        });
        if self.shown.len() > MOST_SHOWN {
            self.shown.remove(0);
        }
    }

    /// The notices shown now, oldest first.
    pub fn shown(&self) -> &[Toast] {
        &self.shown
    }

    /// Draws the notices above the bottom bar; news past its time goes,
    /// and one repaint is asked for when the next one is due to go (an idle
    /// window draws nothing in between).
    pub fn ui(&mut self, ctx: &egui::Context) {
        self.shown
            .retain(|t| t.failure || t.shown_at.elapsed() < NEWS_STAYS);
        if self.shown.is_empty() {
            return;
        }
        if let Some(next) = self
            .shown
            .iter()
            .filter(|t| !t.failure)
            .map(|t| NEWS_STAYS.saturating_sub(t.shown_at.elapsed()))
            .min()
        {
            ctx.request_repaint_after(next + Duration::from_millis(20));
        }
        let mut closed = None;
        egui::Area::new(egui::Id::NULL.with("toasts"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -40.0))
            .order(egui::Order::Foreground)
            .interactable(true)
            .show(ctx, |ui| {
                ui.set_max_width(420.0);
                for (i, toast) in self.shown.iter().enumerate() {
                    let visuals = ui.visuals();
                    let (fill, stroke) = if toast.failure {
                        (
                            visuals.error_fg_color.gamma_multiply(0.18),
                            visuals.error_fg_color,
                        )
                    } else {
                        (
                            visuals.extreme_bg_color,
                            visuals.widgets.noninteractive.bg_stroke.color,
                        )
                    };
                    let frame = egui::Frame::popup(ui.style())
                        .fill(ui.visuals().panel_fill)
                        .stroke(egui::Stroke::new(1.0, stroke));
                    let shown = frame.show(ui, |ui| {
                        egui::Frame::new()
                            .fill(fill)
                            .inner_margin(4.0)
                            .show(ui, |ui| {
                                ui.horizontal(|ui| {
                                    let label = egui::Label::new(&toast.text)
                                        .wrap_mode(egui::TextWrapMode::Wrap);
                                    ui.add(label);
                                    let close = ui.small_button("✖").on_hover_text("Close");
                                    super::probe::mark(format!("toast close:{i}"), || {
                                        super::probe::rect(close.rect)
                                    });
                                    if close.clicked() {
                                        closed = Some(i);
                                    }
                                });
                            });
                    });
                    super::probe::mark(format!("toast:{i}"), || {
                        serde_json::json!({
                            "text": toast.text,
                            "failure": toast.failure,
                            "rect": super::probe::rect(shown.response.rect),
                        })
                    });
                    ui.add_space(4.0);
                }
            });
        if let Some(i) = closed {
            self.shown.remove(i);
        }
    }
}
