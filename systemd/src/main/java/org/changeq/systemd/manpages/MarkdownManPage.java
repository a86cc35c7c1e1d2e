package org.changeq.systemd.manpages;

import java.util.ArrayList;
import java.util.List;
import org.commonmark.ext.gfm.tables.TableBlock;
import org.commonmark.ext.gfm.tables.TableCell;
import org.commonmark.ext.gfm.tables.TableRow;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.BlockQuote;
import org.commonmark.node.BulletList;
import org.commonmark.node.Code;
import org.commonmark.node.Emphasis;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.node.Heading;
import org.commonmark.node.IndentedCodeBlock;
import org.commonmark.node.Link;
import org.commonmark.node.ListItem;
import org.commonmark.node.Node;
import org.commonmark.node.OrderedList;
import org.commonmark.node.Paragraph;
import org.commonmark.node.SoftLineBreak;
import org.commonmark.node.StrongEmphasis;
import org.commonmark.node.Text;
import org.commonmark.node.ThematicBreak;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.Parser;

/**
 * A man page made from one of the project's Markdown documents: its level-2 headings become sections, level-3
 * headings subsections, tables tagged paragraphs (first column as the tag). The document's title and what precedes
 * its first section become NAME's line and DESCRIPTION. A construct the page cannot show (HTML, images) fails the
 * build with the document's line, rather than vanishing from the page.
 */
final class MarkdownManPage {
    private static final Parser PARSER = Parser.builder().extensions(List.of(TablesExtension.create()))
            .includeSourceSpans(IncludeSourceSpans.BLOCKS).build();

    private final String document;
    private final Roff page;

    private MarkdownManPage(String document, Roff page) {
        this.document = document;
        this.page = page;
    }

    /**
     * @param document the Markdown file's name, for messages
     * @param summary NAME's line after the dash
     * @param synopsis the lines of SYNOPSIS
     */
    static String render(String document, String markdown, String title, String section, String source,
            String summary, List<String> synopsis, String seeAlso) {
        Roff page = new Roff(title, section, source);
        page.section("Name").text(Roff.escape(title + " - " + summary));
        page.section("Synopsis").verbatim(synopsis);
        page.section("Description");
        MarkdownManPage renderer = new MarkdownManPage(document, page);
        for (Node block = PARSER.parse(markdown).getFirstChild(); block != null; block = block.getNext()) {
            if (!(block instanceof Heading heading && heading.getLevel() == 1)) {
                renderer.block(block, false);
            }
        }
        page.section("See also").text(seeAlso);
        return page.toString();
    }

    private void block(Node block, boolean continuesItem) {
        if (block instanceof Heading heading) {
            String title = inline(heading, "R");
            if (heading.getLevel() == 2) {
                page.request("SH", '"' + title.toUpperCase(java.util.Locale.ROOT) + '"');
            } else {
                page.request("SS", '"' + title + '"');
            }
        } else if (block instanceof Paragraph) {
            if (continuesItem) {
                page.item("", 4);
            } else if (!(block.getParent() instanceof ListItem)) {
                page.paragraph();
            }
            page.text(inline(block, "R"));
        } else if (block instanceof FencedCodeBlock code) {
            code(code.getLiteral());
        } else if (block instanceof IndentedCodeBlock code) {
            code(code.getLiteral());
        } else if (block instanceof BulletList || block instanceof OrderedList) {
            int number = block instanceof OrderedList ordered ? ordered.getMarkerStartNumber() : 0;
            for (Node item = block.getFirstChild(); item != null; item = item.getNext()) {
                page.item(block instanceof OrderedList ? (number++) + "." : "\\(bu", 4);
                boolean first = true;
                for (Node child = item.getFirstChild(); child != null; child = child.getNext()) {
                    block(child, !first);
                    first = false;
                }
            }
            page.paragraph();
        } else if (block instanceof BlockQuote) {
            page.indent();
            for (Node child = block.getFirstChild(); child != null; child = child.getNext()) {
                block(child, false);
            }
            page.unindent();
        } else if (block instanceof TableBlock) {
            table(block);
        } else if (!(block instanceof ThematicBreak)) {
            throw unsupported(block);
        }
    }

    private void code(String literal) {
        page.paragraph().indent().verbatim(literal.lines().toList()).unindent();
    }

    /** Each body row a tagged paragraph: the first cell the tag, the others below it, named by their heading. */
    private void table(Node table) {
        List<String> headings = new ArrayList<>();
        for (Node cell = table.getFirstChild().getFirstChild().getFirstChild(); cell != null; cell = cell.getNext()) {
            headings.add(inline(cell, "R"));
        }
        for (Node row = table.getLastChild().getFirstChild(); row != null; row = row.getNext()) {
            if (!(row instanceof TableRow)) {
                throw unsupported(row);
            }
            Node first = row.getFirstChild();
            page.tagged(inline(first, "B"));
            int column = 1;
            boolean firstLine = true;
            for (Node cell = first.getNext(); cell != null; cell = cell.getNext(), column++) {
                String text = inline(cell, "R");
                if (!text.isEmpty()) {
                    if (!firstLine) {
                        page.lineBreak();
                    }
                    String label = headings.size() > 2 ? "\\fI" + headings.get(column) + ":\\fR " : "";
                    page.text(label + text);
                    firstLine = false;
                }
            }
        }
    }

    /** The inline children of {@code parent} as roff, in {@code font} (R, B or I), ending in it. */
    private String inline(Node parent, String font) {
        StringBuilder roff = new StringBuilder();
        for (Node node = parent.getFirstChild(); node != null; node = node.getNext()) {
            if (node instanceof Text text) {
                roff.append(Roff.escape(text.getLiteral()));
            } else if (node instanceof Code code) {
                // A code span's own leading or trailing space (`` ` #` ``) must not become a line's indent.
                String literal = Roff.escape(code.getLiteral());
                String inner = literal.strip();
                int leading = literal.indexOf(inner);
                roff.append("\\fB").append("\\ ".repeat(leading)).append(inner)
                        .append("\\ ".repeat(literal.length() - leading - inner.length())).append("\\f").append(font);
            } else if (node instanceof StrongEmphasis) {
                roff.append("\\fB").append(inline(node, "B")).append("\\f").append(font);
            } else if (node instanceof Emphasis) {
                roff.append("\\fI").append(inline(node, "I")).append("\\f").append(font);
            } else if (node instanceof Link link) {
                roff.append(inline(link, font));
                if (link.getDestination().matches("https?:.*")) {
                    roff.append(" <").append(Roff.escape(link.getDestination())).append('>');
                }
            } else if (node instanceof SoftLineBreak) {
                roff.append('\n');
            } else if (node instanceof TableCell) {
                roff.append(inline(node, font));
            } else {
                throw unsupported(node);
            }
        }
        return roff.toString();
    }

    private IllegalArgumentException unsupported(Node node) {
        Node located = node;
        while (located.getSourceSpans().isEmpty() && located.getParent() != null) {
            located = located.getParent();
        }
        String where = located.getSourceSpans().isEmpty() ? ""
                : " line " + (located.getSourceSpans().get(0).getLineIndex() + 1);
        return new IllegalArgumentException(document + where + ": a " + node.getClass().getSimpleName()
                + " cannot be shown in a man page; write it as text, a list, a table or a code block");
    }
}
