//! rtok's tables (comfy-table), with every cell made safe to print.

use comfy_table::{Attribute, Cell, ContentArrangement, presets};

use super::visible;

/// A table whose cells show control characters instead of obeying them.
pub struct Table {
    inner: comfy_table::Table,
}

impl Table {
    pub(super) fn new(header: &[&str], terminal: bool, color: bool) -> Table {
        let mut inner = comfy_table::Table::new();
        if terminal {
            inner.load_preset(presets::UTF8_FULL_CONDENSED);
            inner.set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            inner.load_preset(presets::ASCII_FULL_CONDENSED);
            inner.set_content_arrangement(ContentArrangement::Disabled);
        }
        if color {
            inner.enforce_styling();
        } else {
            inner.force_no_tty();
        }
        inner.set_header(header.iter().map(|h| {
            let cell = Cell::new(h);
            if color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
        Table { inner }
    }

    /// Adds a row; text from elsewhere may be in it, so every control
    /// character is written visibly.
    pub fn add_row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.inner
            .add_row(cells.into_iter().map(|c| visible(c.as_ref()).into_owned()));
    }

    pub fn is_empty(&self) -> bool {
        self.inner.row_iter().next().is_none()
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_inject_rows_or_escapes() {
        let mut table = Table::new(&["name"], false, false);
        table.add_row(["ok\r\n| fake | row |\u{1b}[2J"]);
        let text = table.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains("ok^M^J| fake | row |^[[2J"), "{text}");
    }
}
