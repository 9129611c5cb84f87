package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"google.golang.org/grpc/grpclog"
)

// newServeLogger makes serve's logger: --log-level, and --log-format text
// (logfmt-like key=value) or json (one JSON object a line).
func newServeLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// installProcessLoggers sends what logs outside serve's own logger (the
// log package, slog.Default, gRPC's grpclog) through log, so every line
// serve writes has one format. Process-wide: only the serve command calls
// it, once, before gRPC starts (grpclog.SetLoggerV2 is not safe later).
// client-go's klog is set in newKubeMode.
func installProcessLoggers(log *slog.Logger) {
	installLoggersOnce.Do(func() {
		slog.SetDefault(log)
		grpclog.SetLoggerV2(grpcSlogLogger{log.With("component", "grpc")})
	})
}

var installLoggersOnce sync.Once

// grpcSlogLogger is a grpclog.LoggerV2 over slog. gRPC's info logs are
// debug here: they are about connections coming and going.
type grpcSlogLogger struct{ log *slog.Logger }

func (g grpcSlogLogger) emit(level slog.Level, msg string) {
	g.log.Log(context.Background(), level, strings.TrimSuffix(msg, "\n"))
}

func (g grpcSlogLogger) Info(args ...any)   { g.emit(slog.LevelDebug, fmt.Sprint(args...)) }
func (g grpcSlogLogger) Infoln(args ...any) { g.emit(slog.LevelDebug, fmt.Sprintln(args...)) }
func (g grpcSlogLogger) Infof(f string, args ...any) {
	g.emit(slog.LevelDebug, fmt.Sprintf(f, args...))
}
func (g grpcSlogLogger) Warning(args ...any)   { g.emit(slog.LevelWarn, fmt.Sprint(args...)) }
func (g grpcSlogLogger) Warningln(args ...any) { g.emit(slog.LevelWarn, fmt.Sprintln(args...)) }
func (g grpcSlogLogger) Warningf(f string, args ...any) {
	g.emit(slog.LevelWarn, fmt.Sprintf(f, args...))
}
func (g grpcSlogLogger) Error(args ...any)   { g.emit(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcSlogLogger) Errorln(args ...any) { g.emit(slog.LevelError, fmt.Sprintln(args...)) }
func (g grpcSlogLogger) Errorf(f string, args ...any) {
	g.emit(slog.LevelError, fmt.Sprintf(f, args...))
}

// Fatal logs at error level; grpclog then exits the process itself.
func (g grpcSlogLogger) Fatal(args ...any)   { g.emit(slog.LevelError, fmt.Sprint(args...)) }
func (g grpcSlogLogger) Fatalln(args ...any) { g.emit(slog.LevelError, fmt.Sprintln(args...)) }
func (g grpcSlogLogger) Fatalf(f string, args ...any) {
	g.emit(slog.LevelError, fmt.Sprintf(f, args...))
}

// V reports whether gRPC's verbosity level l is logged: only level 0, and
// only when debug is on.
func (g grpcSlogLogger) V(l int) bool {
	return l <= 0 && g.log.Enabled(context.Background(), slog.LevelDebug)
}
