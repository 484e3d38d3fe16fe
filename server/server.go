package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"switchboard"
	"switchboard/models"
)

// Config is everything New needs; cmd/switchboard fills it from the environment.
type Config struct {
	DB     *gorm.DB
	Log    *slog.Logger
	APIs   []API
	Limits Limits
	// Collectors are this server's own metrics, served on /metrics beside the process's.
	Collectors []prometheus.Collector
}

// Default limits: 1 MiB for JSON and forms, 512 MiB for uploads (a million-row CSV is about 100 MiB).
const (
	DefaultBodyLimit   = 1 << 20
	DefaultUploadLimit = 512 << 20
)

// New builds the whole HTTP surface. It returns a handler, so tests need no port.
func New(cfg Config) (http.Handler, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Limits.Body == 0 {
		cfg.Limits.Body = DefaultBodyLimit
	}
	if cfg.Limits.Upload == 0 {
		cfg.Limits.Upload = DefaultUploadLimit
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = plainErrorHandler(cfg.Log)
	e.Use(middleware.RequestID())
	e.Use(observe(cfg.Log, newMetrics()))
	e.Use(recoverPanics(cfg.Log, false))
	e.Use(harden(cfg.Limits.BodyTimeouts))

	for _, api := range cfg.APIs {
		c, err := LoadContract(api.Name())
		if err != nil {
			return nil, err
		}
		prefix := "/" + api.Name()
		// The group's recover hands a panic back as an error, so mapErrors answers it in the vendor's shape.
		g := e.Group(prefix, mapErrors(api, cfg.Log), recoverPanics(cfg.Log, true), contract(api, c.Doc, c.Router, prefix, cfg.Limits))
		api.Register(g)
	}

	// The WebSocket contracts (openapi/asyncapi): an API that serves one mounts it; the others say they are
	// not built yet rather than 404.
	sockets := map[string]echo.HandlerFunc{}
	for _, api := range cfg.APIs {
		if s, ok := api.(Sockets); ok {
			for path, h := range s.Sockets() {
				sockets[path] = h
				e.Any(path, h)
			}
		}
	}
	for _, path := range []string{"/collect/websocket"} {
		if sockets[path] != nil {
			continue
		}
		e.Any(path, func(c echo.Context) error {
			return c.String(http.StatusNotImplemented, "WebSocket endpoint not implemented yet\n")
		})
	}
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := models.Ping(ctx, cfg.DB); err != nil {
			return c.String(http.StatusServiceUnavailable, "database unavailable\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	mh, err := metricsHandler(cfg.Collectors)
	if err != nil {
		return nil, err
	}
	e.GET("/metrics", echo.WrapHandler(mh))
	if err := mountDocs(e, cfg.APIs); err != nil {
		return nil, err
	}
	return e, nil
}

// Contract is a loaded contract and its router; both are read-only once built, so servers share them.
type Contract struct {
	Doc    *openapi3.T
	Router routers.Router
}

var contracts sync.Map // name → *Contract

// LoadContract answers an embedded contract and its router, parsed once per process. Servers are dropped
// so the router matches paths without the mount prefix, which the contract middleware strips.
func LoadContract(name string) (*Contract, error) {
	if c, ok := contracts.Load(name); ok {
		return c.(*Contract), nil
	}
	doc, router, err := loadContract(name)
	if err != nil {
		return nil, err
	}
	c, _ := contracts.LoadOrStore(name, &Contract{Doc: doc, Router: router})
	return c.(*Contract), nil
}

func loadContract(name string) (*openapi3.T, routers.Router, error) {
	raw, err := fs.ReadFile(switchboard.Contracts, "openapi/"+name+".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("contract %s: %w", name, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("contract %s: %w", name, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, nil, fmt.Errorf("contract %s: %w", name, err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("contract %s router: %w", name, err)
	}
	return doc, router, nil
}

// recoverPanics turns a panic into an error logged through slog with its stack. toError hands the error
// back to the caller (a vendor group's error mapper) instead of echo's plain error handler.
func recoverPanics(log *slog.Logger, toError bool) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: toError,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic", "operation", c.Get(ctxOperation), "error", err, "stack", string(stack))
			return err
		},
	})
}

// plainErrorHandler answers errors outside the vendor groups (unknown top-level paths) as text.
func plainErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status := http.StatusInternalServerError
		msg := "internal server error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status, msg = he.Code, fmt.Sprint(he.Message)
		} else {
			log.ErrorContext(c.Request().Context(), "request failed", "error", err)
		}
		_ = c.String(status, msg+"\n")
	}
}
