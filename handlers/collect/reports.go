package collect

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"switchboard/auth"
	"switchboard/csvio"
	"switchboard/gen/collectapi"
	"switchboard/models"
	"switchboard/models/collect"
)

// RunReport (POST /api/v1/collect/app/report) lists rows of one record type as a report defined through the
// platform API and/or a report script (a restricted column list, never executed: collect.ReportLayout), and
// answers each destination's file inside the JSON answer ("all data is returned as JSON, including file type
// destinations"): csv and svg, the only ones the vendor has. Reports never prompt and change nothing; the
// websocket-id is checked as runplan checks it, and nothing is sent on it.
func (h *Handler) RunReport(ctx context.Context, req collectapi.RunReportRequestObject) (collectapi.RunReportResponseObject, error) {
	p := auth.PrincipalFrom(ctx)
	s := collect.Scope{DatabaseID: p.DatabaseID}
	b := req.Body
	if b.Report == nil && b.Script == nil {
		return nil, models.Errorf(models.Invalid, "name a report, or give a script (or both)")
	}
	if _, _, err := h.callerSocket(p, b.WebsocketId, req.Params.WebsocketId); err != nil {
		return nil, err
	}
	if b.Rowid == nil || len(*b.Rowid) == 0 {
		return nil, models.Errorf(models.Invalid, "rowid: name at least one row of the starton record (there is no \"Anywhere\" report)")
	}
	ids := make([]int64, len(*b.Rowid))
	for i, v := range *b.Rowid {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, models.Errorf(models.Invalid, "rowid[%d]: %q is not a rowid", i, v)
		}
		ids[i] = n
	}
	dests, err := destinations(b.Destination)
	if err != nil {
		return nil, err
	}
	var rep *collect.Report
	start := ""
	if b.Starton != nil {
		start = *b.Starton
	}
	if b.Report != nil {
		if rep, err = collect.FindReport(ctx, h.db, s, *b.Report); err != nil {
			return nil, err
		}
		if start != "" && start != rep.StartOn {
			return nil, models.Errorf(models.Invalid, "starton: report %s starts on %s records, not %s", rep.Name, rep.StartOn, start)
		}
		start = rep.StartOn
	}
	if start == "" {
		return nil, models.Errorf(models.Invalid, "starton: a script alone needs the record type it starts on (there is no \"Anywhere\" report)")
	}
	def, err := collect.FindRecordDef(ctx, h.db, s, start)
	if err != nil {
		return nil, err
	}
	script := ""
	if b.Script != nil {
		script = *b.Script
	}
	layout, err := collect.ReportLayout(script, rep, def)
	if err != nil {
		return nil, err
	}
	rows, err := collect.ReportRows(ctx, h.db, s, def, ids)
	if err != nil {
		return nil, err
	}
	margins := b.Showmargins != nil && *b.Showmargins
	out := collectapi.RunReport200JSONResponse{Status: collectapi.N200, Jobid: strings.ToUpper(collect.NewUUID()),
		Output: make([]collectapi.ReportOutput, 0, len(dests))}
	for _, d := range dests {
		o := collectapi.ReportOutput{Destination: d}
		switch d {
		case collectapi.Csv:
			o.MediaType, o.Content = collectapi.Textcsv, reportCSV(layout, rows)
		default:
			o.MediaType, o.Content = collectapi.ImagesvgXml, reportSVG(layout, rows, margins)
		}
		if len(o.Content) > maxReportOutput {
			name := "script"
			if rep != nil {
				name = rep.Name
			}
			msg := fmt.Sprintf("report %s failed: its %s output is larger than %d bytes; nothing was changed", name, d, maxReportOutput)
			return collectapi.RunReport422JSONResponse{JobFailedJSONResponse: collectapi.JobFailedJSONResponse{Status: 422, Message: msg}}, nil
		}
		out.Output = append(out.Output, o)
	}
	return out, nil
}

// maxReportOutput is ReportOutput.content's maxLength (10 MiB).
const maxReportOutput = 10 << 20

// destinations reads the comma list (the contract's pattern allows only svg and csv, any case): csv when
// absent, each destination once, in order.
func destinations(v *string) ([]collectapi.ReportOutputDestination, error) {
	if v == nil || *v == "" {
		return []collectapi.ReportOutputDestination{collectapi.Csv}, nil
	}
	var out []collectapi.ReportOutputDestination
	for _, d := range strings.Split(strings.ToLower(*v), ",") {
		dest := collectapi.ReportOutputDestination(d)
		if dest != collectapi.Csv && dest != collectapi.Svg {
			return nil, models.Errorf(models.Invalid, "destination: %s is not supported (only svg and csv)", d)
		}
		if !containsDest(out, dest) {
			out = append(out, dest)
		}
	}
	return out, nil
}

func containsDest(ds []collectapi.ReportOutputDestination, d collectapi.ReportOutputDestination) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// reportCSV answers the report as CSV (RFC 4180, CRLF): the column names, then one line per row, every cell
// through the formula-injection guard.
func reportCSV(l collect.Layout, rows []collect.Data) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(l.Columns)
	cells := make([]string, len(l.Columns))
	for _, r := range rows {
		for i, c := range l.Columns {
			cells[i] = csvio.Neutralize(r[c])
		}
		_ = w.Write(cells)
	}
	w.Flush()
	return buf.String()
}

// SVG table geometry, in pixels.
const (
	svgMargin   = 20
	svgRow      = 20
	svgCharW    = 8
	svgPad      = 8
	svgMaxChars = 80 // a longer cell is cut (the CSV output has it whole)
)

// svgText cuts s to svgMaxChars characters and escapes it for XML text.
func svgText(s string) string {
	if utf8.RuneCountInString(s) > svgMaxChars {
		s = string([]rune(s)[:svgMaxChars-1]) + "…"
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// reportSVG answers the report as an SVG table: the title (if any), a header row and one row per record,
// every text XML-escaped; showMargins draws the page margins as a dashed rectangle.
func reportSVG(l collect.Layout, rows []collect.Data, showMargins bool) string {
	widths := make([]int, len(l.Columns))
	for i, c := range l.Columns {
		n := utf8.RuneCountInString(c)
		for _, r := range rows {
			n = max(n, min(utf8.RuneCountInString(r[c]), svgMaxChars))
		}
		widths[i] = n*svgCharW + 2*svgPad
	}
	tableW := 0
	for _, w := range widths {
		tableW += w
	}
	top := svgMargin
	if l.Title != "" {
		top += svgRow + svgPad
	}
	tableH := (len(rows) + 1) * svgRow
	width, height := tableW+2*svgMargin, top+tableH+svgMargin
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="13">`,
		width, height, width, height)
	b.WriteString("\n")
	if showMargins {
		fmt.Fprintf(&b, `<rect class="margins" x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999999" stroke-dasharray="4 4"/>`+"\n",
			svgMargin/2, svgMargin/2, width-svgMargin, height-svgMargin)
	}
	if l.Title != "" {
		fmt.Fprintf(&b, `<text class="title" x="%d" y="%d" font-size="16" font-weight="bold">%s</text>`+"\n", svgMargin, svgMargin+svgRow-5, svgText(l.Title))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000000"/>`+"\n", svgMargin, top, tableW, tableH)
	line := func(y int, cells []string, header bool) {
		x := svgMargin
		weight := ""
		if header {
			weight = ` font-weight="bold"`
		}
		for i, c := range cells {
			fmt.Fprintf(&b, `<text x="%d" y="%d"%s>%s</text>`, x+svgPad, y+svgRow-6, weight, svgText(c))
			x += widths[i]
		}
		b.WriteString("\n")
	}
	line(top, l.Columns, true)
	cells := make([]string, len(l.Columns))
	for i, r := range rows {
		y := top + (i+1)*svgRow
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#cccccc"/>`+"\n", svgMargin, y, svgMargin+tableW, y)
		for j, c := range l.Columns {
			cells[j] = r[c]
		}
		line(y, cells, false)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
