package models

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// ScanRow reads one row of a fixed query into dest; it answers sql.ErrNoRows (errors.Is) when there is
// none. On Postgres it runs on the pool's pgx connection directly: database/sql's row and value
// conversion cost about a tenth of GET /contacts/{id}'s client-side CPU in the bench profile, and pgx
// prepares and caches the statement per connection itself. Elsewhere it is QueryRow.
func ScanRow(ctx context.Context, db *gorm.DB, query string, args []any, dest ...any) error {
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok && IsPostgres(db) {
		conn, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc, ok := dc.(*stdlib.Conn)
			if !ok {
				return QueryRow(ctx, db, query, args...).Scan(dest...)
			}
			return pc.Conn().QueryRow(ctx, query, args...).Scan(dest...)
		})
	}
	return QueryRow(ctx, db, query, args...).Scan(dest...)
}

// QueryRow runs a fixed single-row read through a statement prepared once per pool and reused on each of
// its connections. SQLite otherwise parses and plans the statement on every call: on GET /contacts/{id}
// that was most of the engine's time (the bench profile). Inside a transaction (ConnPool is not the pool)
// it runs the query as it is. query must be a constant of the code: statements live as long as the pool.
func QueryRow(ctx context.Context, db *gorm.DB, query string, args ...any) *sql.Row {
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok {
		if st, err := prepared(ctx, pool, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return db.Statement.ConnPool.QueryRowContext(ctx, query, args...)
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

var (
	stmtMu sync.Mutex
	stmts  = map[stmtKey]*sql.Stmt{}
)

func prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	stmtMu.Lock()
	defer stmtMu.Unlock()
	if st, ok := stmts[k]; ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmts[k] = st
	return st, nil
}

// forgetStatements closes and drops the statements of a pool being closed.
func forgetStatements(pool *sql.DB) {
	stmtMu.Lock()
	defer stmtMu.Unlock()
	for k, st := range stmts {
		if k.pool == pool {
			_ = st.Close()
			delete(stmts, k)
		}
	}
}

// Query is QueryRow for a fixed read of several rows: the statement prepared once per pool.
func Query(ctx context.Context, db *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	if pool, ok := db.Statement.ConnPool.(*sql.DB); ok {
		if st, err := prepared(ctx, pool, query); err == nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return db.Statement.ConnPool.QueryContext(ctx, query, args...)
}
