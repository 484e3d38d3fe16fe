// Package scratchdb makes throwaway Postgres databases and schemas with random names, for tests and
// benchmarks that must neither depend on nor leave anything on the server. The service never imports it.
package scratchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the admin connections
)

// admins keeps one admin connection pool per server or database URL.
var admins sync.Map // url → *sql.DB

func admin(raw string) (*sql.DB, error) {
	if db, ok := admins.Load(raw); ok {
		return db.(*sql.DB), nil
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		return nil, err
	}
	if prev, loaded := admins.LoadOrStore(raw, db); loaded {
		db.Close()
		return prev.(*sql.DB), nil
	}
	return db, nil
}

// Ping checks, within a few seconds, that the server at rootURL answers.
func Ping(ctx context.Context, rootURL string) error {
	db, err := admin(rootURL)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.PingContext(pctx)
}

// CreateDatabase creates the database <prefix><random> on the server at rootURL (after checking, within
// a few seconds, that the server answers) and answers its URL and the function that drops it.
func CreateDatabase(ctx context.Context, rootURL, prefix string) (string, func() error, error) {
	if err := Ping(ctx, rootURL); err != nil {
		return "", nil, err
	}
	return create(ctx, rootURL, prefix, "")
}

// CopyDatabase creates the database <prefix><random> on the server at rootURL as a copy of the database
// at templateURL (on the same server, with no session connected to it: Postgres refuses to copy a database
// in use), and answers its URL and the function that drops it. Copies of one template may be made
// concurrently.
func CopyDatabase(ctx context.Context, rootURL, templateURL, prefix string) (string, func() error, error) {
	tmpl, err := databaseName(templateURL)
	if err != nil {
		return "", nil, err
	}
	// No STRATEGY clause: PG15's default, WAL_LOG, copied the migrated template in 110-190 ms here,
	// FILE_COPY (the only strategy before 15) in 270-630 ms, as it checkpoints before and after copying.
	// Older servers accept the statement too.
	return create(ctx, rootURL, prefix, " TEMPLATE "+tmpl)
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func create(ctx context.Context, rootURL, prefix, clause string) (string, func() error, error) {
	if !identifier.MatchString(prefix) {
		return "", nil, fmt.Errorf("scratchdb: prefix %q: want lower-case letters, digits and _", prefix)
	}
	db, err := admin(rootURL)
	if err != nil {
		return "", nil, err
	}
	name := prefix + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+clause); err != nil {
		return "", nil, err
	}
	dbURL := withDatabase(rootURL, name)
	drop := func() error {
		if d, ok := admins.LoadAndDelete(dbURL); ok {
			d.(*sql.DB).Close()
		}
		// Not ctx: an interrupted run must still drop its database.
		_, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		return err
	}
	return dbURL, drop, nil
}

// CreateSchema creates the schema <prefix><random> in the database at dbURL and answers a URL whose
// connections use it (search_path), and the function that drops it.
func CreateSchema(ctx context.Context, dbURL, prefix string) (string, func() error, error) {
	if !identifier.MatchString(prefix) {
		return "", nil, fmt.Errorf("scratchdb: prefix %q: want lower-case letters, digits and _", prefix)
	}
	db, err := admin(dbURL)
	if err != nil {
		return "", nil, err
	}
	schema := prefix + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	drop := func() error {
		_, err := db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		return err
	}
	return withParam(dbURL, "search_path", schema), drop, nil
}

// userSchemas is the SQL condition, on a schema name column, that leaves out Postgres's own schemas and
// sessions' temporary ones.
const userSchemas = `%[1]s NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND %[1]s NOT LIKE 'pg\_temp\_%%' AND %[1]s NOT LIKE 'pg\_toast\_temp\_%%'`

// A Reset brings a copy of a template database back to the template's state in a few milliseconds,
// where dropping the copy and copying the template again takes hundreds (on PG15 every DROP DATABASE
// forces a checkpoint, and a copy writes the whole ~8 MB catalog). It empties the tables the template left
// empty, rewinds every sequence, then checks what it cannot restore: the schema, and the rows of the
// tables the template filled (schema_migrations). If those changed, Apply answers ErrDiverged.
type Reset struct {
	reset       string // statements, run as one implicit transaction
	fingerprint string // query answering one hash of what reset cannot restore
	want        string // fingerprint of the template
}

// ErrDiverged: a database changed in a way Reset cannot undo; drop it.
var ErrDiverged = errors.New("scratchdb: database diverged from its template")

// NewReset reads the template at templateURL and answers its Reset, or an error when none can be built
// (foreign keys in a cycle). It closes its connections before returning: the template stays copyable.
func NewReset(ctx context.Context, templateURL string) (*Reset, error) {
	db, err := sql.Open("pgx", templateURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := strings1(ctx, db, `SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND `+fmt.Sprintf(userSchemas, "n.nspname")+` ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var empty, filled []string
	for _, t := range tables {
		var rows bool
		if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+t+")").Scan(&rows); err != nil {
			return nil, err
		}
		if rows {
			filled = append(filled, t)
		} else {
			empty = append(empty, t)
		}
	}
	order, err := deleteOrder(ctx, db, empty)
	if err != nil {
		return nil, err
	}
	var reset strings.Builder
	for _, t := range order {
		reset.WriteString("DELETE FROM " + t + ";\n")
	}
	seqs, err := strings1(ctx, db, `SELECT format('SELECT setval(%L, %s, %L);', format('%I.%I', schemaname, sequencename),
		COALESCE(last_value, start_value), last_value IS NOT NULL) FROM pg_sequences WHERE `+fmt.Sprintf(userSchemas, "schemaname"))
	if err != nil {
		return nil, err
	}
	reset.WriteString(strings.Join(seqs, "\n"))

	parts := []string{
		`SELECT format('rel %s.%s %s', n.nspname, c.relname, c.relkind) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + fmt.Sprintf(userSchemas, "n.nspname"),
		`SELECT format('col %s.%s %s %s %s %s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attisdropped, pg_get_expr(d.adbin, d.adrelid))
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attnum > 0 AND ` + fmt.Sprintf(userSchemas, "n.nspname"),
		`SELECT format('con %s %s %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid)) FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE ` + fmt.Sprintf(userSchemas, "n.nspname"),
		`SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + fmt.Sprintf(userSchemas, "n.nspname"),
		`SELECT format('fn %s %s', p.oid::regprocedure, md5(p.prosrc)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ` + fmt.Sprintf(userSchemas, "n.nspname"),
		`SELECT format('seq %s.%s %s %s %s %s %s', schemaname, sequencename, data_type, start_value, min_value, max_value, increment_by) FROM pg_sequences WHERE ` + fmt.Sprintf(userSchemas, "schemaname"),
		`SELECT 'ns ' || nspname FROM pg_namespace WHERE ` + fmt.Sprintf(userSchemas, "nspname"),
	}
	for _, t := range filled {
		parts = append(parts, `SELECT format('rows %s %s', `+quoteLiteral(t)+`, md5(COALESCE(string_agg(r::text, ',' ORDER BY r::text), ''))) FROM `+t+` r`)
	}
	r := &Reset{reset: reset.String(), fingerprint: "SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (" + strings.Join(parts, " UNION ALL ") + ") s(x)"}
	if err := db.QueryRowContext(ctx, r.fingerprint).Scan(&r.want); err != nil {
		return nil, fmt.Errorf("scratchdb: fingerprint: %w", err)
	}
	return r, nil
}

// Apply brings the database at dbURL (a copy of the template, with nobody connected) back to the
// template's state. ErrDiverged, or any error, means the database should be dropped instead.
func (r *Reset) Apply(ctx context.Context, dbURL string) error {
	db, err := admin(dbURL)
	if err != nil {
		return err
	}
	// No arguments: the simple protocol, so the statements run as one implicit transaction.
	if _, err := db.ExecContext(ctx, r.reset); err != nil {
		return err
	}
	var got string
	if err := db.QueryRowContext(ctx, r.fingerprint).Scan(&got); err != nil {
		return err
	}
	if got != r.want {
		return ErrDiverged
	}
	return nil
}

// deleteOrder orders tables so that each comes before the tables its foreign keys reference: deleting
// in that order never strands a reference. Self-references are left to the single DELETE.
func deleteOrder(ctx context.Context, db *sql.DB, tables []string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	referencedBy := map[string][]string{} // parent → children
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			return nil, err
		}
		referencedBy[parent] = append(referencedBy[parent], child)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Depth-first: a table is placed after every table that references it.
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(string) error
	visit = func(t string) error {
		switch state[t] {
		case visiting:
			return fmt.Errorf("scratchdb: foreign keys form a cycle through %s", t)
		case done:
			return nil
		}
		state[t] = visiting
		for _, child := range referencedBy[t] {
			if err := visit(child); err != nil {
				return err
			}
		}
		state[t] = done
		order = append(order, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	// order has children before parents, and may name tables not in the list (filled ones): keep ours.
	keep := map[string]bool{}
	for _, t := range tables {
		keep[t] = true
	}
	out := order[:0]
	for _, t := range order {
		if keep[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

func strings1(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// databaseName answers the database a URL names, checked to be a plain identifier (it is spliced into
// SQL).
func databaseName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("scratchdb: database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !identifier.MatchString(name) {
		return "", fmt.Errorf("scratchdb: database name %q: want lower-case letters, digits and _", name)
	}
	return name, nil
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func withParam(raw, k, v string) string {
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + k + "=" + url.QueryEscape(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
