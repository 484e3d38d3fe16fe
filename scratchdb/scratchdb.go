// Package scratchdb makes throwaway Postgres databases and schemas with random names, for tests and
// benchmarks that must neither depend on nor leave anything on the server. The service never imports it.
package scratchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
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

// CreateDatabase creates the database <prefix><random> on the server at rootURL (after checking, within
// a few seconds, that the server answers) and answers its URL and the function that drops it.
func CreateDatabase(ctx context.Context, rootURL, prefix string) (string, func() error, error) {
	db, err := admin(rootURL)
	if err != nil {
		return "", nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		return "", nil, err
	}
	name := prefix + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
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
