// Package scratchdb makes throwaway Postgres databases and schemas with random names, for tests and
// benchmarks that must neither depend on nor leave anything on the server. The service never imports it.
package scratchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	// WAL_LOG (PG15's default, and the only way before 15) against FILE_COPY, 40 copies of the
	// migrated template on PG15: WAL_LOG 3.1 s, FILE_COPY 4.6 s (its two checkpoints per copy cost more
	// than logging a small database's pages). So the default, which also keeps PG13/14 servers working.
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
