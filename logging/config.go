package logging

import (
	"context"
	"fmt"
	"strings"
	"time"

	ms "github.com/gombim/gombim/catalog/msbasicconnectext"
	"github.com/gombim/gombim/session"
)

// Config is the logging configuration to ask the modem for
// (MODEM_LOGGING_CONFIG set, Version 1). Zero values keep what the modem
// has.
type Config struct {
	// MaxSegmentKiB is the largest log fragment the modem sends, in KiB.
	MaxSegmentKiB uint32
	// MaxFlushTime is how long the modem may hold log data before it
	// sends it (rounded to milliseconds).
	MaxFlushTime time.Duration
	// Level, if not nil, is the verbosity: prod, lab-verbose, lab-medium,
	// lab-low or oem.
	Level *ms.ModemLoggingLevelConfig
}

// IsZero reports whether c asks for nothing.
func (c Config) IsZero() bool { return c.MaxSegmentKiB == 0 && c.MaxFlushTime == 0 && c.Level == nil }

// ParseLevel parses a level nickname (prod, lab-verbose, lab-medium,
// lab-low, oem) or number.
func ParseLevel(s string) (ms.ModemLoggingLevelConfig, error) {
	v, err := ms.ParseModemLoggingLevelConfig(s)
	if err != nil {
		var names []string
		for _, e := range ms.ModemLoggingLevelConfigValues() {
			names = append(names, e.Name)
		}
		return 0, fmt.Errorf("level %q: want one of %s", s, strings.Join(names, ", "))
	}
	return v, nil
}

// over returns the set request: cur with c's values.
func (c Config) over(cur ms.ModemLoggingConfig) ms.ModemLoggingConfig {
	set := cur
	set.Version = 1
	if c.MaxSegmentKiB != 0 {
		set.MaxSegmentSize = c.MaxSegmentKiB
	}
	if c.MaxFlushTime != 0 {
		set.MaxFlushTime = uint32(max(c.MaxFlushTime.Milliseconds(), 1))
	}
	if c.Level != nil {
		set.LevelConfig = *c.Level
	}
	return set
}

// FormatConfig describes a MODEM_LOGGING_CONFIG value, e.g. "segments of
// at most 64 KiB, flushed within 1000 ms, level lab-verbose (version 1)".
func FormatConfig(c ms.ModemLoggingConfig) string {
	return fmt.Sprintf("segments of at most %d KiB, flushed within %d ms, level %s (version %d)",
		c.MaxSegmentSize, c.MaxFlushTime, c.LevelConfig, c.Version)
}

// Differences lists how the modem's answer differs from what was asked,
// e.g. ["segment size 1024 KiB instead of 4096 KiB"]; nil when it took
// every value.
func Differences(asked, got ms.ModemLoggingConfig) []string {
	var d []string
	if got.Version != asked.Version {
		d = append(d, fmt.Sprintf("structure version %d instead of %d", got.Version, asked.Version))
	}
	if got.MaxSegmentSize != asked.MaxSegmentSize {
		d = append(d, fmt.Sprintf("segment size %d KiB instead of %d KiB", got.MaxSegmentSize, asked.MaxSegmentSize))
	}
	if got.MaxFlushTime != asked.MaxFlushTime {
		d = append(d, fmt.Sprintf("flush time %d ms instead of %d ms", got.MaxFlushTime, asked.MaxFlushTime))
	}
	if got.LevelConfig != asked.LevelConfig {
		d = append(d, fmt.Sprintf("level %s instead of %s", got.LevelConfig, asked.LevelConfig))
	}
	return d
}

// configure sets the configuration on s (after reading the current one,
// for the values c leaves alone) and returns what was asked and what the
// modem chose.
func configure(ctx context.Context, s *session.Session, c Config) (asked, got ms.ModemLoggingConfig, err error) {
	cur, err := ms.QueryModemLoggingConfig(ctx, s)
	if err != nil {
		return asked, got, fmt.Errorf("reading the logging configuration (MODEM_LOGGING_CONFIG query): %w", err)
	}
	asked = c.over(*cur)
	r, err := ms.SetModemLoggingConfig(ctx, s, &asked)
	if err != nil {
		return asked, got, fmt.Errorf("setting the logging configuration (MODEM_LOGGING_CONFIG set, %s): %w", FormatConfig(asked), err)
	}
	return asked, *r, nil
}
