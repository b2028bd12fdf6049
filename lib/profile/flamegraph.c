// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * SVG flame graph, self-contained: layout computed here, interaction by the script in
 * flamegraph_js.h. Root at the bottom, callers below callees, widths proportional to the
 * chosen sample value, colours by frame kind (Go, native, kernel). Frames narrower than
 * 0.1 pixel at full width are left out, as flamegraph.pl does, to bound the file size.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/encode.h"
#include "profile/utf8.h"
#include "profile/flamegraph_js.h"
#include "profile/stacktree.h"

#define IMG_WIDTH 1200
#define XPAD 10
#define FRAME_HEIGHT 16
#define FONT_SIZE 12
#define FONT_WIDTH 0.59 /* average glyph width / font size (Verdana) */
#define TOP_PAD 60      /* title, buttons, legend */
#define BOTTOM_PAD 36   /* details and matched lines */
#define MIN_WIDTH 0.1   /* pixels */

static const char *kind_class(uint32_t kind)
{
	switch (kind) {
	case GOPROF_FRAME_KIND_GO: return "go";
	case GOPROF_FRAME_KIND_NATIVE: return "native";
	case GOPROF_FRAME_KIND_KERNEL: return "kernel";
	case GP_NODE_COMM: return "comm";
	case GP_NODE_ROOT: return "root";
	default: return "unknown";
	}
}

/* Colour by kind; the name's hash varies the shade so neighbours are told apart. */
static void frame_color(char *buf, size_t len, uint32_t kind, const char *name)
{
	double v = (double)(gp_hash_bytes(name, strlen(name), 7) % 1000) / 1000.0;
	int r, g, b;

	switch (kind) {
	case GOPROF_FRAME_KIND_GO: /* Go's cyan */
		r = 60 + (int)(60 * v); g = 170 + (int)(50 * v); b = 210 + (int)(45 * v);
		break;
	case GOPROF_FRAME_KIND_NATIVE: /* yellow */
		r = 225 + (int)(30 * v); g = 195 + (int)(50 * v); b = 50 + (int)(50 * v);
		break;
	case GOPROF_FRAME_KIND_KERNEL: /* red-orange */
		r = 225 + (int)(30 * v); g = 90 + (int)(60 * v); b = 50 + (int)(40 * v);
		break;
	case GP_NODE_COMM:
	case GP_NODE_ROOT: /* lavender */
		r = 170 + (int)(30 * v); g = 160 + (int)(30 * v); b = 215 + (int)(30 * v);
		break;
	default: /* grey */
		r = g = b = 175 + (int)(40 * v);
		break;
	}
	snprintf(buf, len, "rgb(%d,%d,%d)", r, g, b);
}

/* Writes at most max_bytes of s (whole characters) as XML text: entities escaped, control
 * characters (XML cannot carry them) replaced by '?', each byte of invalid UTF-8 by U+FFFD
 * (utf8.h). */
static void put_xml(struct gp_out *o, const char *str, size_t max_bytes)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t done = 0, n;

	while (*s && done < max_bytes) {
		const char *rep = NULL;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: break;
		}
		if (rep) {
			gp_out_puts(o, rep);
			s++;
			done++;
			continue;
		}
		n = gp_utf8_len(s);
		if (!n || *s < 0x20 || *s == 0x7f) {
			gp_out_puts(o, n ? "?" : GP_UTF8_REPLACEMENT);
			s++;
			done++;
			continue;
		}
		if (done + n > max_bytes)
			break;
		gp_out_write(o, s, n);
		s += n;
		done += n;
	}
}

/*
 * A value in units people read: "28.9 s" rather than "28945357346 nanoseconds",
 * "12.3 MiB" rather than bytes; counts as they are, named by their type ("12 samples").
 */
static void format_value(char *buf, size_t len, int64_t v, const char *type, const char *unit)
{
	static const struct {
		const char *unit;
		double scale[4];
		const char *name[4];
	} units[] = {
		{ "nanoseconds", { 1e9, 1e6, 1e3, 1 }, { "s", "ms", "us", "ns" } },
		{ "microseconds", { 1e6, 1e3, 1, 0 }, { "s", "ms", "us", NULL } },
		{ "milliseconds", { 1e3, 1, 0, 0 }, { "s", "ms", NULL, NULL } },
		{ "bytes", { 1024.0 * 1024 * 1024, 1024.0 * 1024, 1024, 1 }, { "GiB", "MiB", "KiB", "B" } },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit))
			continue;
		for (size_t j = 0; j < 4 && units[i].name[j]; j++) {
			if ((double)(v < 0 ? -v : v) >= units[i].scale[j] || j == 3 || !units[i].name[j + 1]) {
				double x = (double)v / units[i].scale[j];

				snprintf(buf, len, x >= 100 || units[i].scale[j] == 1 ? "%.0f %s" : "%.3g %s", x,
					 units[i].name[j]);
				return;
			}
		}
	}
	snprintf(buf, len, "%" PRId64 " %s", v, !strcmp(unit, "count") || !*unit ? type : unit);
}

static void put_value(struct gp_out *o, const struct goprof_profile *p, uint32_t vi, int64_t v,
		      int64_t total)
{
	const char *type = gp_str(p, p->type_ids[vi]), *unit = gp_str(p, p->unit_ids[vi]);
	char buf[96];

	format_value(buf, sizeof(buf), v, type, unit);
	gp_out_puts(o, " (");
	put_xml(o, buf, SIZE_MAX);
	gp_out_printf(o, ", %.2f%%)", total ? 100.0 * (double)v / (double)total : 0.0);
}

static void put_frame(struct gp_out *o, const struct goprof_profile *p,
		      const struct gp_write_cfg *cfg, const struct gp_tnode *n, int64_t x,
		      int64_t total, double scale, uint32_t img_height)
{
	double px = XPAD + (double)x * scale, pw = (double)n->total * scale;
	double py = img_height - BOTTOM_PAD - (double)(n->depth + 1) * FRAME_HEIGHT;
	int fit = (int)((pw - 6) / (FONT_SIZE * FONT_WIDTH));
	char color[48];
	size_t len = strlen(n->name);

	frame_color(color, sizeof(color), n->kind, n->name);
	gp_out_printf(o, "<g class=\"f %s\" data-x=\"%" PRId64 "\" data-w=\"%" PRId64
			 "\" data-d=\"%u\"><title>", kind_class(n->kind), x, n->total, n->depth);
	put_xml(o, n->name, SIZE_MAX);
	put_value(o, p, cfg->value_index, n->total, total);
	gp_out_printf(o, "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
			 "fill=\"%s\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
		      px, py, pw, FRAME_HEIGHT - 1, color, px + 3, py + FRAME_HEIGHT - 4.5);
	/* Pre-truncated label, so the graph reads well even where scripts are off. */
	if (fit >= 3) {
		if (len <= (size_t)fit) {
			put_xml(o, n->name, SIZE_MAX);
		} else {
			put_xml(o, n->name, (size_t)fit - 2);
			gp_out_write(o, "..", 2);
		}
	}
	gp_out_puts(o, "</text></g>\n");
}

static void put_header(struct gp_out *o, const struct goprof_profile *p,
		       const struct gp_write_cfg *cfg, int64_t total, uint32_t h)
{
	const char *type = gp_str(p, p->type_ids[cfg->value_index]);

	gp_out_printf(o,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		/* As wide as the window: init() lays the frames out again at its width. */
		"<svg version=\"1.1\" width=\"100%%\" height=\"%u\" data-width=\"%d\" "
		"onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		"<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		"<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"#e0e0f0\" "
		"offset=\"95%%\"/></linearGradient></defs>\n",
		h, IMG_WIDTH);
	gp_out_puts(o,
		"<style type=\"text/css\">\n"
		"text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
		"#title { text-anchor: middle; font-size: 17px; }\n"
		"#search, #matched { text-anchor: end; }\n"
		"#search, #unzoom { cursor: pointer; }\n"
		"#search:hover, #unzoom:hover { fill: #0050c0; }\n"
		".f { cursor: pointer; }\n"
		".f text { pointer-events: none; }\n"
		".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		".hide { display: none; }\n"
		".parent { opacity: 0.5; }\n"
		"</style>\n");
	gp_out_printf(o,
		"<script type=\"text/ecmascript\"><![CDATA[\n"
		"var WIDTH = %d, XPAD = %d, TOTAL = %" PRId64 ", FONT_SIZE = %d, FONT_WIDTH = %.2f;\n"
		"var SEARCH_COLOR = \"rgb(230,0,230)\";\n"
		"var KIND_NAMES = { go: \"Go: \", native: \"native: \", kernel: \"kernel: \", "
		"comm: \"process: \", root: \"\", unknown: \"\" };\n",
		IMG_WIDTH, XPAD, total ? total : 1, FONT_SIZE, FONT_WIDTH);
	gp_out_puts(o, flamegraph_js);
	gp_out_puts(o, "]]></script>\n");
	gp_out_printf(o, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"%u\" "
			 "fill=\"url(#background)\"/>\n", h);
	gp_out_puts(o, "<text id=\"title\" x=\"50%\" y=\"24\">");
	if (cfg->title) {
		put_xml(o, cfg->title, SIZE_MAX);
	} else {
		char buf[96];

		/* "Flame graph: delay (28.9 s in all)": what the widths measure, and the total. */
		format_value(buf, sizeof(buf), total, type, gp_str(p, p->unit_ids[cfg->value_index]));
		gp_out_puts(o, "Flame graph: ");
		put_xml(o, type, SIZE_MAX);
		gp_out_puts(o, " (");
		put_xml(o, buf, SIZE_MAX);
		gp_out_puts(o, " in all)");
	}
	gp_out_puts(o, "</text>\n");
	gp_out_printf(o, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n",
		      XPAD);
	gp_out_printf(o, "<text id=\"search\" x=\"100%%\" dx=\"-%d\" y=\"24\">Search</text>\n",
		      XPAD);
	/* Legend: what the colours mean. */
	gp_out_printf(o, "<g id=\"legend\">"
			 "<rect x=\"%d\" y=\"36\" width=\"10\" height=\"10\" fill=\"rgb(90,195,232)\"/>"
			 "<text x=\"%d\" y=\"45\">Go</text>"
			 "<rect x=\"%d\" y=\"36\" width=\"10\" height=\"10\" fill=\"rgb(240,220,75)\"/>"
			 "<text x=\"%d\" y=\"45\">native</text>"
			 "<rect x=\"%d\" y=\"36\" width=\"10\" height=\"10\" fill=\"rgb(240,120,70)\"/>"
			 "<text x=\"%d\" y=\"45\">kernel</text></g>\n",
		      XPAD, XPAD + 14, XPAD + 50, XPAD + 64, XPAD + 120, XPAD + 134);
	gp_out_printf(o, "<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n", XPAD, h - 14);
	gp_out_printf(o, "<text id=\"matched\" x=\"100%%\" dx=\"-%d\" y=\"%u\"> </text>\n",
		      XPAD, h - 14);
}

int gp_encode_svg(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
		  struct gp_out *o)
{
	struct gp_stacktree t;
	int64_t *x = NULL, *cursor = NULL, total;
	double scale;
	uint32_t node, h;
	int err;

	err = gp_stacktree_build(&t, p, cfg->value_index);
	if (err)
		return gp_out_fail(o, err);
	x = calloc(t.nr_nodes, sizeof(*x));
	cursor = calloc(t.nr_nodes, sizeof(*cursor));
	if (!x || !cursor) {
		err = gp_out_fail(o, gp_err(-ENOMEM, "svg: out of memory"));
		goto out;
	}
	total = t.nodes[0].total;
	scale = total ? (double)(IMG_WIDTH - 2 * XPAD) / (double)total : 0;
	h = TOP_PAD + BOTTOM_PAD + (t.max_depth + 1) * FRAME_HEIGHT;
	put_header(o, p, cfg, total, h);
	gp_out_puts(o, "<g id=\"frames\">\n");
	put_frame(o, p, cfg, &t.nodes[0], 0, total, scale, h);
	/* Pre-order walk: a child starts where its previous sibling ended. */
	node = t.nodes[0].first_child;
	while (node && !o->err) {
		const struct gp_tnode *n = &t.nodes[node];
		bool wide = (double)n->total * scale >= MIN_WIDTH;

		x[node] = cursor[n->parent];
		cursor[n->parent] += n->total;
		cursor[node] = x[node];
		if (wide)
			put_frame(o, p, cfg, n, x[node], total, scale, h);
		if (wide && n->first_child) {
			node = n->first_child;
			continue;
		}
		while (node && !t.nodes[node].next_sibling)
			node = t.nodes[node].parent;
		if (node)
			node = t.nodes[node].next_sibling;
	}
	gp_out_puts(o, "</g>\n</svg>\n");
	err = o->err;
out:
	free(x);
	free(cursor);
	gp_stacktree_free(&t);
	return err;
}
