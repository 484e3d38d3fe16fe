package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a Switchboard token carries, named as ICTCore's own tokens name them.
type Claims struct {
	UserID     int64  `json:"user_id"`
	Username   string `json:"username"`
	IsAdmin    string `json:"is_admin"`
	APIVersion string `json:"api-version"`
	jwt.RegisteredClaims
}

// Tokens issues and checks HS256 tokens signed with the server's secret.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	issuer string
	parsed *Cache[string, *Claims] // verified tokens: a client sends the same one on every request
}

// DefaultTokenTTL is how long a token lives (ICTCore's default is 360 days; a day is kinder to leaks).
const DefaultTokenTTL = 24 * time.Hour

// NewTokens builds a token issuer. secret must be at least 32 bytes.
func NewTokens(secret string, ttl time.Duration) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("token secret: want at least 32 bytes")
	}
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &Tokens{secret: []byte(secret), ttl: ttl, issuer: "switchboard", parsed: NewCache[string, *Claims](time.Minute, 10000)}, nil
}

// TTL answers how long issued tokens live.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs a token for the user.
func (t *Tokens) Issue(userID int64, username string, admin bool) (string, error) {
	now := time.Now()
	isAdmin := "0"
	if admin {
		isAdmin = "1"
	}
	c := Claims{
		UserID: userID, Username: username, IsAdmin: isAdmin, APIVersion: "1.0",
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
}

// Parse checks a token's signature, algorithm and times, and answers its claims.
func (t *Tokens) Parse(token string) (*Claims, error) {
	if c, ok := t.parsed.Get(token); ok && time.Now().Before(c.ExpiresAt.Time) {
		return c, nil
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(t.issuer), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	t.parsed.Put(token, &c)
	return &c, nil
}
