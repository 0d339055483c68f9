package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3": SQLite compiled to Go, no cgo
)

// store keeps the catalog in a SQLite database file. It is the source of
// truth: the server's signals only say which rows changed.
type store struct {
	db *sql.DB
}

// errNoMovie is returned for a row that does not exist.
var errNoMovie = errors.New("no such movie")

// openStore opens the database at path, creating it and its table if
// needed, and fills an empty table with seed.
func openStore(ctx context.Context, path string, seed []Movie) (*store, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)&_pragma=synchronous(normal)"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &store{db: db}
	if err := s.init(ctx, seed); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

func (s *store) init(ctx context.Context, seed []Movie) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS movies (
		id       INTEGER PRIMARY KEY,
		title    TEXT NOT NULL,
		year     INTEGER NOT NULL,
		director TEXT NOT NULL,
		synopsis TEXT NOT NULL
	)`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM movies`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		for _, m := range seed {
			if err := m.validate(); err != nil {
				return fmt.Errorf("seed movie %d: %w", m.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO movies (id, title, year, director, synopsis) VALUES (?, ?, ?, ?, ?)`,
				m.ID, m.Title, m.Year, m.Director, m.Synopsis); err != nil {
				return fmt.Errorf("seed movie %d: %w", m.ID, err)
			}
		}
	}
	return tx.Commit()
}

func (s *store) Close() error { return s.db.Close() }

// ids returns the ids of all movies, in order.
func (s *store) ids(ctx context.Context) ([]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM movies ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// movie reads one movie.
func (s *store) movie(ctx context.Context, id int) (Movie, error) {
	return scanMovie(s.db.QueryRowContext(ctx, `SELECT id, title, year, director, synopsis FROM movies WHERE id = ?`, id))
}

func scanMovie(row *sql.Row) (Movie, error) {
	var m Movie
	err := row.Scan(&m.ID, &m.Title, &m.Year, &m.Director, &m.Synopsis)
	if errors.Is(err, sql.ErrNoRows) {
		return Movie{}, errNoMovie
	}
	return m, err
}

// listings reads what the index shows of every movie, in order of id.
func (s *store) listings(ctx context.Context) ([]listing, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, title, year FROM movies ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []listing
	for rows.Next() {
		var l listing
		if err := rows.Scan(&l.ID, &l.Title, &l.Year); err != nil {
			return nil, err
		}
		l.URL = fmt.Sprintf("/movies/%d", l.ID)
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// update replaces movie m.ID with m in one transaction and returns the movie
// it replaced. Nothing changes if it fails.
func (s *store) update(ctx context.Context, m Movie) (old Movie, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Movie{}, err
	}
	defer tx.Rollback()
	old, err = scanMovie(tx.QueryRowContext(ctx, `SELECT id, title, year, director, synopsis FROM movies WHERE id = ?`, m.ID))
	if err != nil {
		return Movie{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE movies SET title = ?, year = ?, director = ?, synopsis = ? WHERE id = ?`,
		m.Title, m.Year, m.Director, m.Synopsis, m.ID); err != nil {
		return Movie{}, err
	}
	return old, tx.Commit()
}
