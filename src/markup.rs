//! The reports are written once, in Markdown (`report.md`), and shown two more ways from it:
//! as HTML inside `report.html` (headings and tables, not Markdown in a `<pre>`) and as plain text
//! on a terminal (no `#`, `|` or `**` on screen). Raw HTML in a report's text (a scenario title, a
//! neuron id) is shown as text, never interpreted.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn parser(markdown: &str) -> Parser<'_> {
    Parser::new_ext(markdown, Options::ENABLE_TABLES)
}

/// The HTML of `markdown`, for inclusion in a page.
pub fn to_html(markdown: &str) -> String {
    let events = parser(markdown).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// A table met in the Markdown: its header cells and rows, for the caller to align.
pub type TableText<'a> = &'a dyn Fn(&[String], &[Vec<String>]) -> String;

/// `markdown` as a terminal shows it: headings on their own lines (the first underlined),
/// paragraphs and list items as lines, tables through `table`.
pub fn to_text(markdown: &str, table: TableText) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut head: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut in_table = false;
    let mut first_heading = true;
    let end_line = |out: &mut String, line: &mut String| {
        if !line.is_empty() {
            out.push_str(line.trim_end());
            out.push('\n');
            line.clear();
        }
    };
    for event in parser(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                line.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak => line.push(' '),
            Event::Start(Tag::Item) => line.push_str("- "),
            Event::Start(Tag::Table(_)) => {
                in_table = true;
                head.clear();
                rows.clear();
            }
            Event::End(TagEnd::TableCell) => row.push(std::mem::take(&mut line)),
            Event::End(TagEnd::TableHead) => head = std::mem::take(&mut row),
            Event::End(TagEnd::TableRow) => rows.push(std::mem::take(&mut row)),
            Event::End(TagEnd::Table) => {
                in_table = false;
                out.push_str(table(&head, &rows).trim_end());
                out.push_str("\n\n");
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = std::mem::take(&mut line);
                out.push_str(&text);
                out.push('\n');
                if first_heading {
                    out.push_str(&"=".repeat(text.chars().count()));
                    out.push('\n');
                    first_heading = false;
                }
                out.push('\n');
            }
            Event::End(TagEnd::Paragraph) if !in_table => {
                end_line(&mut out, &mut line);
                out.push('\n');
            }
            Event::End(TagEnd::Item) => end_line(&mut out, &mut line),
            Event::End(TagEnd::List(_)) => out.push('\n'),
            _ => {}
        }
    }
    end_line(&mut out, &mut line);
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "# Chaos: zone <b>east</b>\n\nVerdict: **ok**\n\n## Steps\n\n| step | took |\n|---|---|\n| inject | 10 ms |\n| revert | 5 ms |\n\n- one\n- two\n";

    #[test]
    fn html_has_headings_and_tables_and_no_raw_html() {
        let html = to_html(REPORT);
        assert!(
            html.contains("<h1>") && html.contains("<h2>Steps</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<table>") && html.contains("<td>inject</td>"),
            "{html}"
        );
        assert!(
            html.contains("&lt;b&gt;east&lt;/b&gt;"),
            "raw HTML is text: {html}"
        );
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn text_has_no_markdown_syntax() {
        let table = |head: &[String], rows: &[Vec<String>]| {
            let mut s = head.join(" ") + "\n";
            for r in rows {
                s += &(r.join(" ") + "\n");
            }
            s
        };
        let text = to_text(REPORT, &table);
        assert!(text.starts_with("Chaos: zone <b>east</b>\n====="), "{text}");
        assert!(text.contains("Verdict: ok\n"), "{text}");
        assert!(
            text.contains("step took\ninject 10 ms\nrevert 5 ms"),
            "{text}"
        );
        assert!(text.contains("- one\n- two"), "{text}");
        for syntax in ["#", "|", "**", "---"] {
            assert!(!text.contains(syntax), "{syntax} in {text}");
        }
    }
}
