package collect

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// The data server's rows (issue 9, item 3), stored generically: one collect_rows row per record (its id is
// the record's rowid, unique across the store) and one collect_values row per field of it (migration 18).
// Every query starts from a Scope; the values of a row are read through the Scope as well, and the filter
// conditions name field ids, which belong to one definition of the scope's database.

// row is a row of collect_rows. Data is its values again, as one JSON object by field id (rowData), written
// with them: GetRow reads a row by id in one seek from it, filters and sorts use collect_values.
type row struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64
	RecordID   int64
	CreatedAt  int64
	UpdatedAt  int64
	Data       string
}

// rowData is collect_rows.data: text value by field id (decimal).
type rowData map[string]string

func (r rowData) set(fieldID int64, text string) { r[strconv.FormatInt(fieldID, 10)] = text }

func (r rowData) encode() string {
	b, _ := json.Marshal(r) // a map of strings always encodes
	return string(b)
}

func decodeRowData(id int64, s string) (rowData, error) {
	var r rowData
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("row %d's data: %w", id, err)
	}
	return r, nil
}

func (row) TableName() string { return "collect_rows" }

// value is a row of collect_values.
type value struct {
	RowID      int64 `gorm:"primaryKey;autoIncrement:false"`
	FieldID    int64 `gorm:"primaryKey;autoIncrement:false"`
	DatabaseID int64
	TextValue  string
	NumValue   *float64
}

func (value) TableName() string { return "collect_values" }

// Data is a record's fields as the API answers them: field name → value, the rowid column included.
type Data map[string]string

// Business-logic modes of a create (notes/vendors.md 1.1).
const (
	InsertOnly     = 0
	PreLogicStage  = 1
	PreLogicOnly   = 2
	PostLogicOnly  = 3
	FullLogic      = 4
	maxConditions  = 50
	maxSortColumns = 10
)

// RowQuery is what a list asks: the raw filter, fields and sort parameters, a page size and a 1-based page.
type RowQuery struct {
	Filter, Fields, Sort string
	Limit, Page          int
}

// RowPage is one page of rows, with the matches over all pages and the number of pages.
type RowPage struct {
	Rows       []Data
	NumRecords int64
	NumPages   int64
}

// Filter operators (openapi/collect.yaml, parameter Filter) and their SQL.
var operators = map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "like": "LIKE", "nlike": "NOT LIKE"}

// cond is one filter condition: field nil is the rowid column.
type cond struct {
	field     *FieldDef
	op, value string
}

// parseFilter reads `<field>__<op>=<value>` conditions joined by commas; a value is single-quoted (” is
// a quote, a comma inside is literal) or a bare integer. An unknown field or operator, or a value that
// does not fit its field's type, is Invalid.
func parseFilter(d *RecordDef, s string) ([]cond, error) {
	var out []cond
	bad := func(why string) error { return models.Errorf(models.Invalid, "filter: %s", why) }
	for i := 0; i < len(s); {
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, bad("want <field>__<op>=<value> at " + strconv.Quote(s[i:]))
		}
		key := s[i : i+eq]
		i += eq + 1
		var v string
		if i < len(s) && s[i] == '\'' {
			var b strings.Builder
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
			}
			if !closed {
				return nil, bad("unterminated quoted value for " + key)
			}
			v = b.String()
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			v = s[i : i+end]
			i += end
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return nil, bad("value " + strconv.Quote(v) + " of " + key + " is neither quoted ('…') nor an integer")
			}
		}
		if i < len(s) {
			if s[i] != ',' || i == len(s)-1 {
				return nil, bad("want a comma between conditions, after the value of " + key)
			}
			i++
		}
		c, err := condition(d, key, v)
		if err != nil {
			return nil, err
		}
		if out = append(out, c); len(out) > maxConditions {
			return nil, bad("at most " + strconv.Itoa(maxConditions) + " conditions")
		}
	}
	return out, nil
}

// condition resolves one condition's key (`<field>` or `<field>__<op>`) against the definition.
func condition(d *RecordDef, key, v string) (cond, error) {
	name, op := key, "eq"
	if j := strings.LastIndex(key, "__"); j >= 0 && d.Field(key) == nil && key != d.RowIDField {
		name, op = key[:j], key[j+2:]
		if _, ok := operators[op]; !ok {
			return cond{}, models.Errorf(models.Invalid, "filter: unknown operator %s in %s (want one of eq, ne, lt, lte, gt, gte, like, nlike)", op, key)
		}
	}
	c := cond{op: op, value: v}
	if name == d.RowIDField {
		if op == "like" || op == "nlike" {
			return c, models.Errorf(models.Invalid, "filter: operator %s does not apply to the rowid field %s", op, name)
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return c, models.Errorf(models.Invalid, "filter: %s is the rowid field: %q is not an integer", name, v)
		}
		return c, nil
	}
	if c.field = d.Field(name); c.field == nil {
		return c, models.Errorf(models.Invalid, "filter: unknown field %s for record %s", name, d.Name)
	}
	if op != "like" && op != "nlike" && (c.field.Type != TypeText || v != "") {
		if _, _, err := checkValue(c.field, v); err != nil {
			return c, models.Wrap(models.Invalid, err, "filter: "+err.Error())
		}
	}
	return c, nil
}

// apply adds the condition to q, every value a bound parameter.
func (c cond) apply(q *gorm.DB) *gorm.DB {
	if c.field == nil {
		n, _ := strconv.ParseInt(c.value, 10, 64)
		return q.Where("collect_rows.id "+operators[c.op]+" ?", n)
	}
	sql, args := c.valueCond(q, "collect_values")
	return q.Where("collect_rows.id IN (SELECT row_id FROM collect_values WHERE "+sql+")", args...)
}

// valueCond is a field condition on the collect_values row named alias, every value a bound parameter.
func (c cond) valueCond(q *gorm.DB, alias string) (string, []any) {
	sqlOp := operators[c.op]
	a := alias + "."
	switch {
	case c.op == "like" || c.op == "nlike":
		return a + "field_id = ? AND " + models.Lower(q, a+"text_value") + " " + sqlOp + ` ? ESCAPE '\'`, []any{c.field.ID, strings.ToLower(c.value)}
	case c.field.Type == TypeNumber:
		n, _ := strconv.ParseFloat(c.value, 64)
		return a + "field_id = ? AND " + a + "num_value " + sqlOp + " ?", []any{c.field.ID, n}
	default:
		return a + "field_id = ? AND " + a + "text_value " + sqlOp + " ?", []any{c.field.ID, c.value}
	}
}

// parseFields answers the fields a list or read returns (nil: all), the rowid column always included.
func parseFields(d *RecordDef, s string) (map[string]bool, error) {
	if s == "" {
		return nil, nil
	}
	keep := map[string]bool{d.RowIDField: true}
	for _, n := range strings.Split(s, ",") {
		if n != d.RowIDField && d.Field(n) == nil {
			return nil, models.Errorf(models.Invalid, "fields: unknown field %s for record %s", n, d.Name)
		}
		keep[n] = true
	}
	return keep, nil
}

// sortKey is one field of a sort parameter.
type sortKey struct {
	field *FieldDef
	desc  bool
}

// column is the key's ORDER BY term on the collect_values row named alias.
func (k sortKey) column(alias string) string {
	col := alias + ".text_value"
	if k.field.Type == TypeNumber {
		col = alias + ".num_value"
	}
	if k.desc {
		col += " DESC"
	}
	return col
}

// parseSort reads a sort parameter: the fields sorted on before the rowid (nothing after the rowid can
// matter: it is unique), and whether the rowid, which always ends the order so pages never overlap, runs
// backwards.
func parseSort(d *RecordDef, s string) (keys []sortKey, rowidDesc bool, err error) {
	if s == "" {
		return nil, false, nil
	}
	names := strings.Split(s, ",")
	if len(names) > maxSortColumns {
		return nil, false, models.Errorf(models.Invalid, "sort: at most %d fields", maxSortColumns)
	}
	for _, k := range names {
		desc := strings.HasPrefix(k, "-")
		name := strings.TrimPrefix(k, "-")
		if name == d.RowIDField {
			return keys, desc, nil
		}
		f := d.Field(name)
		if f == nil {
			return nil, false, models.Errorf(models.Invalid, "sort: unknown field %s for record %s", name, d.Name)
		}
		keys = append(keys, sortKey{f, desc})
	}
	return keys, false, nil
}

// sorted adds the ORDER BY of the sort keys to q (joining each sorted field's values), ending with the rowid.
func sorted(q *gorm.DB, keys []sortKey, rowidDesc bool) *gorm.DB {
	for i, k := range keys {
		alias := "s" + strconv.Itoa(i)
		q = q.Joins("LEFT JOIN collect_values "+alias+" ON "+alias+".row_id = collect_rows.id AND "+alias+".field_id = ?", k.field.ID).
			Order(k.column(alias))
	}
	if rowidDesc {
		return q.Order("collect_rows.id DESC")
	}
	return q.Order("collect_rows.id")
}

// byIndex tells whether a list can be answered from collect_values alone: every condition names a field
// (a field belongs to one record of one database, and every row holds a value of each of its fields).
func byIndex(conds []cond, extra *cond) bool {
	ok := extra == nil
	for _, c := range conds {
		ok = ok && c.field != nil
	}
	return ok
}

// indexPage answers one page of row ids from collect_values alone, for a list byIndex allows with at
// least one condition or sort field. It walks one index in page order and probes the rest by primary key,
// so a page costs about what its rows do, not what all the matches do: the first sort field's values
// (field_id, value, row_id) drive, or without one the first condition's, whose row ids come out of the
// index in order for an equality. The other conditions are EXISTS probes on (row_id, field_id); the other
// sort fields are joined as in sorted.
func indexPage(ctx context.Context, db *gorm.DB, conds []cond, keys []sortKey, rowidDesc bool, limit, offset int) ([]int64, error) {
	var joins, where, order []string
	var joinArgs, whereArgs []any
	probes := conds
	if len(keys) > 0 {
		where, whereArgs = append(where, "d.field_id = ?"), append(whereArgs, keys[0].field.ID)
	} else {
		sql, a := conds[0].valueCond(db, "d")
		where, whereArgs = append(where, sql), append(whereArgs, a...)
		probes = conds[1:]
	}
	for i, c := range probes {
		alias := "p" + strconv.Itoa(i)
		sql, a := c.valueCond(db, alias)
		where = append(where, "EXISTS (SELECT 1 FROM collect_values "+alias+" WHERE "+alias+".row_id = d.row_id AND "+sql+")")
		whereArgs = append(whereArgs, a...)
	}
	for i, k := range keys {
		alias := "d"
		if i > 0 {
			alias = "s" + strconv.Itoa(i)
			joins = append(joins, "LEFT JOIN collect_values "+alias+" ON "+alias+".row_id = d.row_id AND "+alias+".field_id = ?")
			joinArgs = append(joinArgs, k.field.ID)
		}
		order = append(order, k.column(alias))
	}
	if rowidDesc {
		order = append(order, "d.row_id DESC")
	} else {
		order = append(order, "d.row_id")
	}
	sql := "SELECT d.row_id FROM collect_values d " + strings.Join(joins, " ") + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	var ids []int64
	err := db.WithContext(ctx).Raw(sql, append(append(joinArgs, whereArgs...), limit, offset)...).Scan(&ids).Error
	return ids, err
}

// ListRows answers one page of d's rows matching the query.
func ListRows(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, rq RowQuery) (RowPage, error) {
	return listRows(ctx, db, s, d, rq, nil)
}

// listRows is ListRows with an extra condition (a sub-record's parent link). Its queries vary in
// selectivity with their values, so Postgres plans each for its values (models.CustomPlans).
func listRows(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, rq RowQuery, extra *cond) (page RowPage, err error) {
	err = models.CustomPlans(ctx, db, func(db *gorm.DB) error {
		page, err = pageOf(ctx, db, s, d, rq, extra)
		return err
	})
	return page, err
}

// pageOf answers the page listRows asks for.
func pageOf(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, rq RowQuery, extra *cond) (RowPage, error) {
	var page RowPage
	conds, err := parseFilter(d, rq.Filter)
	if err != nil {
		return page, err
	}
	keep, err := parseFields(d, rq.Fields)
	if err != nil {
		return page, err
	}
	q := s.Query(ctx, db, &row{}).Where("collect_rows.record_id = ?", d.ID)
	if extra != nil {
		q = extra.apply(q)
	}
	for _, c := range conds {
		q = c.apply(q)
	}
	if err := countRows(ctx, db, q, conds, extra, &page.NumRecords); err != nil {
		return page, err
	}
	limit := rq.Limit
	if limit <= 0 {
		limit = models.DefaultLimit
	}
	limit = min(limit, models.MaxLimit)
	pageNo := max(rq.Page, 1)
	page.NumPages = (page.NumRecords + int64(limit) - 1) / int64(limit)
	page.Rows = []Data{}
	keys, rowidDesc, err := parseSort(d, rq.Sort)
	if err != nil || int64(pageNo) > page.NumPages {
		return page, err // a bad sort is a 400 even past the end
	}
	var ids []int64
	offset := (pageNo - 1) * limit
	if byIndex(conds, extra) && len(conds)+len(keys) > 0 {
		ids, err = indexPage(ctx, db, conds, keys, rowidDesc, limit, offset)
	} else {
		err = sorted(q.Session(&gorm.Session{}), keys, rowidDesc).Limit(limit).Offset(offset).Pluck("collect_rows.id", &ids).Error
	}
	if err != nil {
		return page, err
	}
	page.Rows, err = loadRows(ctx, db, s, d, ids, keep)
	return page, err
}

// countRows counts the rows a list matches. When every condition names a field, the matches are counted in
// the values index alone, one index range per condition intersected, without the rows (byIndex: the
// conditions' field ids already confine them to the scope's record). BenchmarkListRows, 100k rows, a page with its count: a 20% filter on Postgres went
// from 26.8 to 7.6–11.1 ms (an unfiltered page: 13–15 ms); two conditions from 38.8 to 20.6 ms on Postgres
// and from 77.7 to 42.1 ms on SQLite (unfiltered: 10–11 ms).
func countRows(ctx context.Context, db *gorm.DB, q *gorm.DB, conds []cond, extra *cond, n *int64) error {
	if len(conds) == 0 || !byIndex(conds, extra) {
		return q.Session(&gorm.Session{}).Count(n).Error
	}
	var parts []string
	var args []any
	for _, c := range conds {
		sql, a := c.valueCond(q, "collect_values")
		parts = append(parts, "SELECT row_id FROM collect_values WHERE "+sql)
		args = append(args, a...)
	}
	return db.WithContext(ctx).Raw("SELECT COUNT(*) FROM ("+strings.Join(parts, " INTERSECT ")+") m", args...).Scan(n).Error
}

// loadRows reads the values of rows ids (in that order) and answers them as Data, cut to keep (nil: all).
func loadRows(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, ids []int64, keep map[string]bool) ([]Data, error) {
	out := make([]Data, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var vals []value
	if err := s.Query(ctx, db, &value{}).Where("row_id IN ?", ids).Find(&vals).Error; err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(d.Fields))
	for _, f := range d.Fields {
		if keep == nil || keep[f.Name] {
			names[f.ID] = f.Name
		}
	}
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		at[id] = i
		out[i] = Data{d.RowIDField: strconv.FormatInt(id, 10)}
	}
	for _, v := range vals {
		if n, ok := names[v.FieldID]; ok {
			out[at[v.RowID]][n] = v.TextValue
		}
	}
	return out, nil
}

// takeRow reads row id of d inside the scope, locked on Postgres with strength ("" none); NotFound when it
// is not one of d's rows in this database.
func takeRow(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, id int64, strength string) (*row, error) {
	q := s.Query(ctx, db, &row{})
	if strength != "" && models.IsPostgres(db) {
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	return models.TakeOne[row](q.Where("id = ? AND record_id = ?", id, d.ID),
		func() error { return models.Errorf(models.NotFound, "%s %d not found", d.Name, id) })
}

// GetRow reads row id of d, cut to the fields parameter (the rowid column always included).
func GetRow(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, id int64, fields string) (Data, error) {
	keep, err := parseFields(d, fields)
	if err != nil {
		return nil, err
	}
	// The row's data in one fixed query: one seek by id.
	query := getRowSQL
	if models.IsPostgres(db) {
		query = getRowPG
	}
	var text string
	err = models.ScanRow(ctx, db.WithContext(ctx), query, []any{id, s.DatabaseID, d.ID}, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, models.Errorf(models.NotFound, "%s %d not found", d.Name, id)
	}
	if err != nil {
		return nil, err
	}
	data, err := decodeRowData(id, text)
	if err != nil {
		return nil, err
	}
	out := Data{d.RowIDField: strconv.FormatInt(id, 10)}
	for fieldID, text := range data {
		fid, err := strconv.ParseInt(fieldID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("row %d's data: field id %q", id, fieldID)
		}
		if f := d.fieldByID(fid); f != nil && (keep == nil || keep[f.Name]) {
			out[f.Name] = text
		}
	}
	return out, nil
}

// getRowSQL reads one row's data by rowid, database and record (GetRow); getRowPG spells it for Postgres.
const (
	getRowSQL = `SELECT data FROM collect_rows WHERE id = ? AND database_id = ? AND record_id = ?`
	getRowPG  = `SELECT data FROM collect_rows WHERE id = $1 AND database_id = $2 AND record_id = $3`
)

// parentLink is the condition "the sub-record's parent field holds rowid".
func parentLink(sub *RecordDef, rowid int64) *cond {
	return &cond{field: sub.Field(sub.ParentField), op: "eq", value: strconv.FormatInt(rowid, 10)}
}

// SubRecord answers the definition of sub, which must be a sub-record of parent, after checking that
// parent's row rowid exists (both NotFound otherwise).
func SubRecord(ctx context.Context, db *gorm.DB, s Scope, parent *RecordDef, rowid int64, sub string) (*RecordDef, error) {
	if _, err := takeRow(ctx, db, s, parent, rowid, ""); err != nil {
		return nil, err
	}
	d, err := FindRecordDef(ctx, db, s, sub)
	if err != nil {
		return nil, err
	}
	if d.Parent != parent.Name {
		return nil, models.Errorf(models.NotFound, "%s is not a sub-record of %s", sub, parent.Name)
	}
	return d, nil
}

// ListSubRows answers one page of sub's rows attached to parent row rowid (sub from SubRecord).
func ListSubRows(ctx context.Context, db *gorm.DB, s Scope, sub *RecordDef, rowid int64, rq RowQuery) (RowPage, error) {
	return listRows(ctx, db, s, sub, rq, parentLink(sub, rowid))
}

// CountSubRows answers, for each sub-record of parent, how many of its rows are attached to row rowid
// (0 included).
func CountSubRows(ctx context.Context, db *gorm.DB, s Scope, parent *RecordDef, rowid int64) (map[string]int64, error) {
	if _, err := takeRow(ctx, db, s, parent, rowid, ""); err != nil {
		return nil, err
	}
	subs, err := SubRecordDefs(ctx, db, s, parent.Name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(subs))
	for i := range subs {
		var n int64
		q := parentLink(&subs[i], rowid).apply(s.Query(ctx, db, &row{}).Where("collect_rows.record_id = ?", subs[i].ID))
		if err := q.Count(&n).Error; err != nil {
			return nil, err
		}
		out[subs[i].Name] = n
	}
	return out, nil
}

// checkData refuses the rowid column and fields d does not define.
func checkData(d *RecordDef, data map[string]string, what string) error {
	for k := range data {
		if k == d.RowIDField {
			return models.Errorf(models.Invalid, "data: %s is the rowid field of %s: %s", k, d.Name, what)
		}
		if d.Field(k) == nil {
			return models.Errorf(models.Invalid, "data: unknown field %s for record %s", k, d.Name)
		}
	}
	return nil
}

// checkParent makes sure the parent row a sub-record's data links to exists (locked against its delete on
// Postgres); 0 links to none. A missing parent is a Conflict (a reference to a record that does not exist).
func checkParent(ctx context.Context, tx *gorm.DB, s Scope, d *RecordDef, data Data, strength string) error {
	v, ok := data[d.ParentField]
	if d.Parent == "" || !ok || v == "0" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return models.Errorf(models.Invalid, "data: %s holds the rowid of a %s: %q is not one", d.ParentField, d.Parent, v)
	}
	p, err := FindRecordDef(ctx, tx, s, d.Parent)
	if err != nil {
		return err
	}
	if _, err := takeRow(ctx, tx, s, p, id, strength); err != nil {
		if models.KindOf(err) == models.NotFound {
			return models.Errorf(models.Conflict, "data: %s %d (%s) does not exist", d.Parent, id, d.ParentField)
		}
		return err
	}
	return nil
}

// CreateRow stores one record of d from data with a business-logic mode (notes/vendors.md 1.1) and answers
// it complete, with its rowid. Switchboard's business logic is a definition's field defaults: pre-logic
// (modes 1, 2 and 4) fills a field the data leaves out with its default, and with no default (or in modes 0
// and 3) a field left out is blank (0 for a number). No post-logic rules are defined, so 3 stores like 0
// and 4 like 2. Mode 1 stores nothing: it answers the virtual record, without the rowid column (rowid 0).
func CreateRow(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, mode int, data map[string]string) (int64, Data, error) {
	if mode < InsertOnly || mode > FullLogic {
		return 0, nil, models.Errorf(models.Invalid, "business-logic %d: want 0 to 4", mode)
	}
	if err := checkData(d, data, "the server gives it"); err != nil {
		return 0, nil, err
	}
	pre := mode == PreLogicStage || mode == PreLogicOnly || mode == FullLogic
	out := Data{}
	vals := make([]value, 0, len(d.Fields))
	for i := range d.Fields {
		f := &d.Fields[i]
		v, ok := data[f.Name]
		if !ok {
			v = blank(f)
			if pre && f.Default != "" {
				v = f.Default
			}
		}
		n, text, err := checkValue(f, v)
		if err != nil {
			return 0, nil, models.Wrap(models.Invalid, err, "data: "+err.Error())
		}
		out[f.Name] = text
		vals = append(vals, value{FieldID: f.ID, DatabaseID: s.DatabaseID, TextValue: text, NumValue: n})
	}
	if mode == PreLogicStage {
		return 0, out, checkParent(ctx, db.WithContext(ctx), s, d, out, "")
	}
	now := time.Now().Unix()
	stored := make(rowData, len(vals))
	for _, v := range vals {
		stored.set(v.FieldID, v.TextValue)
	}
	r := row{DatabaseID: s.DatabaseID, RecordID: d.ID, CreatedAt: now, UpdatedAt: now, Data: stored.encode()}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkParent(ctx, tx, s, d, out, "SHARE"); err != nil {
			return err
		}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		for i := range vals {
			vals[i].RowID = r.ID
		}
		if len(vals) == 0 {
			return nil
		}
		return tx.CreateInBatches(&vals, 500).Error
	})
	if err != nil {
		return 0, nil, err
	}
	out[d.RowIDField] = strconv.FormatInt(r.ID, 10)
	return r.ID, out, nil
}

// UpdateRow changes the fields data sends of row id of d and answers the record complete.
func UpdateRow(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, id int64, data map[string]string) (Data, error) {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return updateRow(ctx, tx, s, d, id, data) })
	if err != nil {
		return nil, err
	}
	return GetRow(ctx, db, s, d, id, "")
}

// updateRow is UpdateRow's change inside the caller's transaction tx (a contact plan's changes share one).
func updateRow(ctx context.Context, tx *gorm.DB, s Scope, d *RecordDef, id int64, data map[string]string) error {
	if err := checkData(d, data, "it cannot be changed"); err != nil {
		return err
	}
	type change struct {
		f    *FieldDef
		text string
		num  *float64
	}
	changes := make([]change, 0, len(data))
	for i := range d.Fields {
		f := &d.Fields[i]
		if v, ok := data[f.Name]; ok {
			n, text, err := checkValue(f, v)
			if err != nil {
				return models.Wrap(models.Invalid, err, "data: "+err.Error())
			}
			changes = append(changes, change{f, text, n})
		}
	}
	r, err := takeRow(ctx, tx, s, d, id, "UPDATE")
	if err != nil {
		return err
	}
	if err := checkParent(ctx, tx, s, d, data, "SHARE"); err != nil {
		return err
	}
	stored, err := decodeRowData(id, r.Data)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := s.Query(ctx, tx, &value{}).Where("row_id = ? AND field_id = ?", id, c.f.ID).
			Updates(map[string]any{"text_value": c.text, "num_value": c.num}).Error; err != nil {
			return err
		}
		stored.set(c.f.ID, c.text)
	}
	return s.Query(ctx, tx, &row{}).Where("id = ?", id).Updates(map[string]any{"updated_at": time.Now().Unix(), "data": stored.encode()}).Error
}

// DeleteRow deletes row id of d with its values. A row that sub-records still link to is a Conflict
// (deleting a debtor never strands its contacts). Its files go with it: their rows here, and their blobs,
// whose keys it answers, the caller deletes once the delete has committed.
func DeleteRow(ctx context.Context, db *gorm.DB, s Scope, d *RecordDef, id int64) ([]string, error) {
	var blobs []string
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := takeRow(ctx, tx, s, d, id, "UPDATE"); err != nil {
			return err
		}
		counts, err := CountSubRows(ctx, tx, s, d, id)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(counts))
		for n, c := range counts {
			if c > 0 {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			slices.Sort(names)
			return models.Errorf(models.Conflict, "%s %d still has %s records: delete them first", d.Name, id, strings.Join(names, ", "))
		}
		if err := s.Query(ctx, tx, &value{}).Where("row_id = ?", id).Delete(&value{}).Error; err != nil {
			return err
		}
		files := s.Query(ctx, tx, &File{}).Where("record = ? AND row_id = ?", d.Name, id)
		if err := files.Session(&gorm.Session{}).Pluck("blob_key", &blobs).Error; err != nil {
			return err
		}
		if err := files.Delete(&File{}).Error; err != nil {
			return err
		}
		return s.Query(ctx, tx, &row{}).Where("id = ?", id).Delete(&row{}).Error
	})
	if err != nil {
		return nil, err
	}
	return blobs, nil
}
