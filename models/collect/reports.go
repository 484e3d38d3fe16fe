package collect

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// Reports (issue 9, item 4; notes/vendors.md 1.7). Which reports exist is data (ambiguity 16): each
// database's reports are defined through the platform API, by name, with the record they start on, the
// columns they list (field names of that record, its rowid field included) and an optional title, stored in
// collect_reports (migration 21). A report only lists rows: it never prompts, changes data or runs code. A
// report script (runReport's `script`) is a restricted column list read by ReportLayout, never executed.
// Every query goes through a Scope.

// Report is a row of collect_reports.
type Report struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64
	Name       string
	StartOn    string `gorm:"column:start_on"`
	Title      string
	ColumnList string `gorm:"column:column_list"` // comma-joined field names
	CreatedAt  int64
}

// TableName is the table of reports.
func (Report) TableName() string { return "collect_reports" }

// Columns answers the fields the report lists, in order.
func (r *Report) Columns() []string { return strings.Split(r.ColumnList, ",") }

// ReportInput is a new report.
type ReportInput struct {
	Name, StartOn, Title string
	Columns              []string
}

// Limits of a report.
const (
	maxReportName  = 255
	maxReportTitle = 255
	MaxReportRows  = 1000 // ReportRequest.rowid's maxItems
)

func reportNotFound(what string) error {
	return models.Errorf(models.NotFound, "report %s not found", what)
}

// checkColumn answers an error unless name is d's rowid field or one of its fields.
func checkColumn(d *RecordDef, name, what string) error {
	if name != d.RowIDField && d.Field(name) == nil {
		return models.Errorf(models.Invalid, "%s: unknown field %s for record %s", what, name, d.Name)
	}
	return nil
}

// CreateReport stores a new report in the scope's database: a name the database has already is a Conflict;
// a start-on record it does not define, a column that is not a field of it or a column listed twice is
// Invalid.
func CreateReport(ctx context.Context, db *gorm.DB, s Scope, in ReportInput) (*Report, error) {
	if in.Name == "" || len(in.Name) > maxReportName {
		return nil, models.Errorf(models.Invalid, "name: want 1 to %d bytes", maxReportName)
	}
	if len(in.Title) > maxReportTitle {
		return nil, models.Errorf(models.Invalid, "title: at most %d bytes", maxReportTitle)
	}
	if len(in.Columns) == 0 || len(in.Columns) > MaxFields+1 {
		return nil, models.Errorf(models.Invalid, "columns: want 1 to %d fields", MaxFields+1)
	}
	for i, c := range in.Columns {
		if slices.Contains(in.Columns[:i], c) {
			return nil, models.Errorf(models.Invalid, "columns: %s is listed twice", c)
		}
	}
	r := &Report{DatabaseID: s.DatabaseID, Name: in.Name, StartOn: in.StartOn, Title: in.Title,
		ColumnList: strings.Join(in.Columns, ","), CreatedAt: time.Now().Unix()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		// SHARE: the definition cannot be deleted until this report is stored (its delete then sees it).
		d, err := findDef(ctx, tx, s, in.StartOn, "SHARE")
		if models.KindOf(err) == models.NotFound {
			return models.Errorf(models.Invalid, "starton: record %s is not defined in this database", in.StartOn)
		}
		if err != nil {
			return err
		}
		for _, c := range in.Columns {
			if err := checkColumn(d, c, "columns"); err != nil {
				return err
			}
		}
		var n int64
		if err := s.Query(ctx, tx, &Report{}).Where("name = ?", in.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "the database has a report %s already", in.Name)
		}
		return tx.Create(r).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil, models.Wrap(models.Conflict, err, "the database has a report "+in.Name+" already")
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ListReports answers one page of the scope's reports in id order.
func ListReports(ctx context.Context, db *gorm.DB, s Scope, lq models.ListQuery) (models.PageOf[Report], error) {
	return models.List(ctx, s.Query(ctx, db, &Report{}), "id", lq, func(r *Report) int64 { return r.ID })
}

// GetReport loads report id of the scope's database; another database's is NotFound.
func GetReport(ctx context.Context, db *gorm.DB, s Scope, id int64) (*Report, error) {
	return models.TakeOne[Report](s.Query(ctx, db, &Report{}).Where("id = ?", id),
		func() error { return reportNotFound(strconv.FormatInt(id, 10)) })
}

// FindReport loads the scope's report named name (NotFound: "report … not found").
func FindReport(ctx context.Context, db *gorm.DB, s Scope, name string) (*Report, error) {
	return models.TakeOne[Report](s.Query(ctx, db, &Report{}).Where("name = ?", name),
		func() error { return reportNotFound(strconv.Quote(name)) })
}

// DeleteReport deletes report id of the scope's database.
func DeleteReport(ctx context.Context, db *gorm.DB, s Scope, id int64) error {
	res := s.Query(ctx, db, &Report{}).Where("id = ?", id).Delete(&Report{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return reportNotFound(strconv.FormatInt(id, 10))
	}
	return nil
}

// countReportsOn counts the scope's reports starting on record name.
func countReportsOn(ctx context.Context, tx *gorm.DB, s Scope, name string) (int64, error) {
	var n int64
	err := s.Query(ctx, tx, &Report{}).Where("start_on = ?", name).Count(&n).Error
	return n, err
}

// Layout is what a report lists: a title ("" none) and its columns, in order.
type Layout struct {
	Title   string
	Columns []string
}

// maxScriptLines bounds a script (its text is at most 65535 bytes anyway).
const maxScriptLines = 1000

// ReportLayout reads a report script, then the report r's own body (nil: a script alone), against the
// start-on record d. A script is never executed: it is a restricted column list, one directive a line —
// `fields: a,b,c` (fields of d, its rowid field included; a column already listed is not listed again),
// `title: text` (the first title wins), blank lines and # comments. Anything else, or an unknown field, is
// Invalid naming the line. The report's body reads as `title: <Title>` then `fields: <Columns>`, after the
// script: prepending a script puts its columns first and lets its title replace the report's. A layout with
// no columns is Invalid.
func ReportLayout(script string, r *Report, d *RecordDef) (Layout, error) {
	var l Layout
	titled := false
	add := func(cols []string, what string) error {
		for _, c := range cols {
			if err := checkColumn(d, c, what); err != nil {
				return err
			}
			if !slices.Contains(l.Columns, c) {
				l.Columns = append(l.Columns, c)
			}
		}
		return nil
	}
	if script != "" {
		lines := strings.Split(strings.ReplaceAll(script, "\r\n", "\n"), "\n")
		if len(lines) > maxScriptLines {
			return l, models.Errorf(models.Invalid, "script: at most %d lines", maxScriptLines)
		}
		for i, line := range lines {
			line = strings.TrimSpace(line)
			where := "script line " + strconv.Itoa(i+1)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, val, ok := strings.Cut(line, ":")
			key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
			switch {
			case ok && key == "fields":
				var cols []string
				for _, c := range strings.Split(val, ",") {
					if c = strings.TrimSpace(c); c == "" {
						return l, models.Errorf(models.Invalid, "%s: an empty field name in %q", where, line)
					}
					cols = append(cols, c)
				}
				if err := add(cols, where); err != nil {
					return l, err
				}
			case ok && key == "title":
				if len(val) > maxReportTitle {
					return l, models.Errorf(models.Invalid, "%s: a title has at most %d bytes", where, maxReportTitle)
				}
				if !titled {
					l.Title, titled = val, true
				}
			default:
				if len(line) > 80 {
					line = line[:80] + "…"
				}
				return l, models.Errorf(models.Invalid,
					"%s: %q is not a report directive (a script is a column list: `fields: a,b,c`, `title: text`, blank lines and # comments; it is never executed)", where, line)
			}
		}
	}
	if r != nil {
		if !titled && r.Title != "" {
			l.Title = r.Title
		}
		if err := add(r.Columns(), "report "+r.Name); err != nil {
			return l, err
		}
	}
	if len(l.Columns) == 0 {
		return l, models.Errorf(models.Invalid, "script: lists no fields (want a line `fields: a,b,c`)")
	}
	return l, nil
}

// ReportRows reads rows ids of d (in that order; an id given twice is read once) in the scope's database:
// an id that is not one of d's rows there is NotFound, and nothing of another database is read.
func ReportRows(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, ids []int64) ([]Data, error) {
	uniq, seen := make([]int64, 0, len(ids)), make(map[int64]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			uniq, seen[id] = append(uniq, id), true
		}
	}
	if len(uniq) > MaxReportRows {
		return nil, models.Errorf(models.Invalid, "rowid: at most %d rows", MaxReportRows)
	}
	var found []int64
	if len(uniq) > 0 {
		if err := s.Query(ctx, db, &row{}).Where("record_id = ? AND id IN ?", d.ID, uniq).Pluck("id", &found).Error; err != nil {
			return nil, err
		}
	}
	in := make(map[int64]bool, len(found))
	for _, id := range found {
		in[id] = true
	}
	for _, id := range uniq {
		if !in[id] {
			return nil, models.Errorf(models.NotFound, "%s %d not found", d.Name, id)
		}
	}
	return loadRows(ctx, db, s, d, uniq, nil)
}
