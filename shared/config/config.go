// Package config loads the deployment's configuration: the file the team edits
// (pajarito.json at the repository root, deployed next to every function) with
// environment variables overriding it, validated at start so that a wrong setting
// stops the program with a message naming the setting and how to fix it.
//
// Settings: brand (id, handle), raw_retention_days, and the scheduled listener's:
// sources (the mentions timeline and keyword searches), poll_interval, lookback and
// x_budget (the monthly X read budget and X's prices per post). Errors name the
// setting by its path in the file ("sources[2].query") and where its value came from
// (the file, an environment variable, or "not set").
//
// The "protocol" section is the care protocol (package protocol: tier, business
// hours, templates, routing, priority weights, crisis topics); see protocol.go.
// The "staffing" section is the staffing target and handle time; see staffing.go.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pajarito-care/pajarito/shared/care"
	"github.com/pajarito-care/pajarito/shared/protocol"
)

// FileName is the configuration file's name.
const FileName = "pajarito.json"

// Config is the deployment's configuration.
type Config struct {
	Brand care.Brand `json:"brand"`
	// RawRetentionDays is how long X's raw JSON of each message is kept (DynamoDB TTL).
	RawRetentionDays int `json:"raw_retention_days"`

	// Sources are what the scheduled listener reads: the brand's mentions timeline
	// and keyword searches. Absent from the file, the listener reads the mentions
	// timeline only (DefaultSources); an empty list turns it off.
	Sources []Source `json:"sources"`
	// PollInterval is how often the listener runs (the schedule's rate).
	PollInterval Duration `json:"poll_interval"`
	// MonitorInterval is how often the monitor runs: crisis sweeps, first-response
	// escalations, surveys, daily metrics (the schedule's rate).
	MonitorInterval Duration `json:"monitor_interval"`
	// Lookback is how far back the first run of a new source reads.
	Lookback Duration `json:"lookback"`
	// XBudget is the monthly X read budget and X's prices.
	XBudget XBudget `json:"x_budget"`

	// Protocol is the care protocol (see protocol.go).
	Protocol protocol.Config `json:"protocol"`
	// Staffing is the staffing target and handle time (see staffing.go).
	Staffing Staffing `json:"staffing"`

	// origin records where each setting came from, for error messages.
	origin map[string]string
}

// Defaults.
const (
	DefaultRawRetentionDays = 90
)

// Defaults returns a configuration holding every default and no brand: what Load
// starts from before it reads the file and the environment.
func Defaults() *Config {
	return &Config{
		RawRetentionDays: DefaultRawRetentionDays,
		Sources:          DefaultSources(),
		PollInterval:     protocol.DurationOf(DefaultPollInterval),
		MonitorInterval:  protocol.DurationOf(DefaultMonitorInterval),
		Lookback:         protocol.DurationOf(DefaultLookback),
		XBudget:          DefaultXBudget(),
		Protocol:         protocol.DefaultConfig(),
		Staffing:         DefaultStaffing(),
		origin:           map[string]string{},
	}
}

// Load reads the configuration file at path (see Find), applies the environment
// overrides from getenv (os.Getenv when nil) and validates the result.
//
// Environment overrides: PAJARITO_BRAND_ID, PAJARITO_BRAND_HANDLE,
// PAJARITO_RAW_RETENTION_DAYS, PAJARITO_POLL_INTERVAL (a duration such as "5m"),
// PAJARITO_X_BUDGET_USD (x_budget.monthly_usd, in dollars) and PAJARITO_TIER
// (protocol.tier: self_serve or enterprise).
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Defaults()
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return nil, err
		}
		if err := c.decode(path, b); err != nil {
			return nil, err
		}
	}
	c.brandOverrides(getenv)
	if v := strings.TrimSpace(getenv("PAJARITO_RAW_RETENTION_DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("config: PAJARITO_RAW_RETENTION_DAYS=%q is not a whole number of days", v)
		}
		c.RawRetentionDays = n
		c.origin["raw_retention_days"] = "environment variable PAJARITO_RAW_RETENTION_DAYS"
	}
	if v := strings.TrimSpace(getenv("PAJARITO_POLL_INTERVAL")); v != "" {
		c.PollInterval = protocol.ParseDuration(v) // a bad value is reported by Validate
		c.origin["poll_interval"] = "environment variable PAJARITO_POLL_INTERVAL"
	}
	if v := strings.TrimSpace(getenv("PAJARITO_X_BUDGET_USD")); v != "" {
		f, err := strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64)
		if err != nil {
			return nil, fmt.Errorf("config: x_budget.monthly_usd (environment variable PAJARITO_X_BUDGET_USD): %q is not a number of dollars; write it like 50 or 120.5", v)
		}
		c.XBudget.MonthlyUSD = f
		c.origin["x_budget.monthly_usd"] = "environment variable PAJARITO_X_BUDGET_USD"
	}
	c.protocolOverrides(getenv)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// readFile reads the configuration file at path.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w (set PAJARITO_CONFIG to the path of %s)", path, err, FileName)
	}
	return b, nil
}

// brandOverrides applies PAJARITO_BRAND_ID and PAJARITO_BRAND_HANDLE, and drops
// the handle's "@".
func (c *Config) brandOverrides(getenv func(string) string) {
	for _, o := range []struct {
		env, key string
		dst      *string
	}{
		{"PAJARITO_BRAND_ID", "brand.id", &c.Brand.ID},
		{"PAJARITO_BRAND_HANDLE", "brand.handle", &c.Brand.Handle},
	} {
		if v := strings.TrimSpace(getenv(o.env)); v != "" {
			*o.dst = v
			c.origin[o.key] = "environment variable " + o.env
		}
	}
	c.Brand.Handle = strings.TrimPrefix(c.Brand.Handle, "@")
}

// BrandFromEnvironment reads only the brand of the configuration FromEnvironment
// would load (the file's "brand" and the PAJARITO_BRAND_* overrides) and
// validates only it, with the same messages: for the webhook, which needs
// nothing else and starts on every cold start inside X's 3-second CRC deadline.
// The rest of the file is not decoded: the other functions report its errors.
func BrandFromEnvironment(getenv func(string) string) (care.Brand, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	path, err := Find(getenv)
	if err != nil {
		return care.Brand{}, err
	}
	c := &Config{origin: map[string]string{}}
	if path != "" {
		b, err := readFile(path)
		if err != nil {
			return care.Brand{}, err
		}
		var file struct {
			Brand *care.Brand `json:"brand"`
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return care.Brand{}, fmt.Errorf("config: %s: %w", path, err)
		}
		if file.Brand != nil {
			c.Brand, c.origin["brand"] = *file.Brand, path
		}
	}
	c.brandOverrides(getenv)
	var errs []error
	c.validateBrand(func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s (%s): %s", key, c.from(key), fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return care.Brand{}, err
	}
	return c.Brand, nil
}

// decode reads the file's JSON b over c's defaults, rejecting unknown fields, and
// records which settings the file holds.
func (c *Config) decode(path string, b []byte) error {
	// Decode the sources one by one first, so that an unknown or mistyped field in
	// one of them is reported with its index.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if raw, ok := top["sources"]; ok {
		c.Sources = nil // the file's list replaces the default one
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("config: %s: sources: %w (sources is a list of objects)", path, err)
		}
		for i, r := range list {
			var s Source
			if err := s.UnmarshalJSON(r); err != nil {
				return fmt.Errorf("config: %s: sources[%d]: %w", path, i, err)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	for k := range top {
		c.origin[k] = path
	}
	if _, ok := top["sources"]; ok && c.Sources == nil {
		c.Sources = []Source{} // "sources": null or [] turns the listener off
	}
	return nil
}

var handleRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)

// from returns where the setting key came from: the environment variable or file
// that set it or one of its parents ("sources[2].query" falls back to "sources"),
// else "not set".
func (c *Config) from(key string) string {
	for k := key; k != ""; {
		if o := c.origin[k]; o != "" {
			return o
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return "not set"
}

// Validate reports every invalid setting, each naming where it came from.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s (%s): %s", key, c.from(key), fmt.Sprintf(format, args...)))
	}
	c.validateBrand(bad)
	if c.RawRetentionDays < 1 || c.RawRetentionDays > 3650 {
		bad("raw_retention_days", "%d is out of range: keep X's raw JSON between 1 and 3650 days", c.RawRetentionDays)
	}
	c.validateListener(bad)
	c.validateProtocol(bad)
	c.validateStaffing(bad)
	return errors.Join(errs...)
}

func (c *Config) validateBrand(bad func(key, format string, args ...any)) {
	if !care.IsID(c.Brand.ID) {
		bad("brand.id", "%q is not a numeric X user id; set brand.id in %s or PAJARITO_BRAND_ID to the account's id (GET /2/users/by/username/<handle> returns it)", c.Brand.ID, FileName)
	}
	if !handleRE.MatchString(c.Brand.Handle) {
		bad("brand.handle", "%q is not an X handle (1-15 letters, digits or _); set brand.handle in %s or PAJARITO_BRAND_HANDLE", c.Brand.Handle, FileName)
	}
}

// Find returns the configuration file to load: $PAJARITO_CONFIG when set; else
// pajarito.json in $LAMBDA_TASK_ROOT (inside Lambda, where the build puts it next to
// the bootstrap); else the first pajarito.json found walking up from the working
// directory. It returns "" (no file: environment only) when there is none.
func Find(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv("PAJARITO_CONFIG"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("config: PAJARITO_CONFIG=%s: %w", p, err)
		}
		return p, nil
	}
	if root := getenv("LAMBDA_TASK_ROOT"); root != "" {
		p := filepath.Join(root, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	for {
		p := filepath.Join(dir, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// FromEnvironment finds and loads the configuration (Find, then Load).
func FromEnvironment(getenv func(string) string) (*Config, error) {
	p, err := Find(getenv)
	if err != nil {
		return nil, err
	}
	return Load(p, getenv)
}

// Setting returns the environment variable name's value, or an error that names it
// and says what it is for when it is empty.
func Setting(getenv func(string) string, name, what string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return "", fmt.Errorf("config: environment variable %s is not set: it must hold %s", name, what)
	}
	return v, nil
}
