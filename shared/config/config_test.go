package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pajarito-care/pajarito/shared/care"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	good := `{"brand":{"id":"1590000000000000001","handle":"@PajaritoAir"},"raw_retention_days":30}`
	tests := []struct {
		name       string
		file       string
		env        map[string]string
		wantID     string
		wantHandle string
		wantErr    []string // substrings that must all appear
	}{
		{name: "file", file: good, wantID: "1590000000000000001", wantHandle: "PajaritoAir"},
		{name: "env overrides file", file: good, env: map[string]string{"PAJARITO_BRAND_ID": "42", "PAJARITO_BRAND_HANDLE": "otra_marca"}, wantID: "42", wantHandle: "otra_marca"},
		{name: "environment only", env: map[string]string{"PAJARITO_BRAND_ID": "7", "PAJARITO_BRAND_HANDLE": "x"}, wantID: "7", wantHandle: "x"},
		{name: "bad id names setting and source", file: good, env: map[string]string{"PAJARITO_BRAND_ID": "PajaritoAir"},
			wantErr: []string{"brand.id", "environment variable PAJARITO_BRAND_ID", "numeric X user id"}},
		{name: "bad handle from file", file: `{"brand":{"id":"1","handle":"way too long a handle"}}`,
			wantErr: []string{"brand.handle", FileName, "1-15 letters"}},
		{name: "nothing set reports both", wantErr: []string{"brand.id (not set)", "brand.handle (not set)"}},
		{name: "unknown field", file: `{"brand":{"id":"1","handle":"a"},"brnad":{}}`, wantErr: []string{"unknown field", "brnad"}},
		{name: "retention out of range", file: `{"brand":{"id":"1","handle":"a"},"raw_retention_days":0}`, wantErr: []string{"raw_retention_days", "between 1 and 3650"}},
		{name: "retention env not a number", file: good, env: map[string]string{"PAJARITO_RAW_RETENTION_DAYS": "ten"}, wantErr: []string{"PAJARITO_RAW_RETENTION_DAYS", "whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			c, err := Load(path, envOf(tt.env))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load succeeded, want error containing %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Brand.ID != tt.wantID || c.Brand.Handle != tt.wantHandle {
				t.Errorf("brand = %+v, want id %s handle %s", c.Brand, tt.wantID, tt.wantHandle)
			}
		})
	}
}

func TestFindAndRepositoryFile(t *testing.T) {
	// From this package's directory, Find walks up to the repository's pajarito.json,
	// which must itself be valid.
	p, err := Find(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != FileName {
		t.Fatalf("Find = %q, want the repository's %s", p, FileName)
	}
	if _, err := Load(p, envOf(nil)); err != nil {
		t.Fatalf("the repository's %s is invalid: %v", FileName, err)
	}
	if _, err := Find(envOf(map[string]string{"PAJARITO_CONFIG": "/nonexistent/pajarito.json"})); err == nil {
		t.Error("Find with a missing PAJARITO_CONFIG file succeeded")
	}
	if _, err := Setting(envOf(nil), "PAJARITO_TABLE", "the DynamoDB table name"); err == nil || !strings.Contains(err.Error(), "PAJARITO_TABLE") {
		t.Errorf("Setting error = %v, want it to name PAJARITO_TABLE", err)
	}
}

// TestBrandFromEnvironment: the webhook's brand is the one the whole
// configuration has, overrides included, validated with the same messages; the
// rest of the file is not its concern.
func TestBrandFromEnvironment(t *testing.T) {
	good := `{"brand": {"id": "1500000000000000001", "handle": "@PajaritoAir"}, "raw_retention_days": 30}`
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		want    care.Brand
		wantErr []string // substrings of the error; nil: no error
		full    bool     // FromEnvironment loads it too, with the same brand
	}{
		{name: "file", file: good, want: care.Brand{ID: "1500000000000000001", Handle: "PajaritoAir"}, full: true},
		{name: "overrides", file: good, env: map[string]string{"PAJARITO_BRAND_ID": "1500000000000000002", "PAJARITO_BRAND_HANDLE": "@otra"},
			want: care.Brand{ID: "1500000000000000002", Handle: "otra"}, full: true},
		{name: "environment only", env: map[string]string{"PAJARITO_BRAND_ID": "1500000000000000003", "PAJARITO_BRAND_HANDLE": "solo"},
			want: care.Brand{ID: "1500000000000000003", Handle: "solo"}, full: true},
		{name: "bad id", file: `{"brand": {"id": "PajaritoAir", "handle": "PajaritoAir"}}`,
			wantErr: []string{"brand.id", "is not a numeric X user id", "PAJARITO_BRAND_ID"}},
		{name: "bad handle from the environment", file: good, env: map[string]string{"PAJARITO_BRAND_HANDLE": "no spaces please"},
			wantErr: []string{"brand.handle", "environment variable PAJARITO_BRAND_HANDLE"}},
		{name: "not JSON", file: `{"brand": `, wantErr: []string{"config: "}},
		{name: "the rest of the file is not read", file: `{"brand": {"id": "1500000000000000001", "handle": "PajaritoAir"}, "raw_retention_days": -4}`,
			want: care.Brand{ID: "1500000000000000001", Handle: "PajaritoAir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PAJARITO_CONFIG": "", "LAMBDA_TASK_ROOT": t.TempDir()}
			if tt.file != "" {
				env["PAJARITO_CONFIG"] = writeConfig(t, tt.file)
			}
			for k, v := range tt.env {
				env[k] = v
			}
			getenv := envOf(env)
			got, err := BrandFromEnvironment(getenv)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("BrandFromEnvironment = %+v, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("BrandFromEnvironment = %+v, %v; want %+v", got, err, tt.want)
			}
			if tt.full {
				c, err := FromEnvironment(getenv)
				if err != nil || c.Brand != got {
					t.Errorf("FromEnvironment brand = %+v, %v; BrandFromEnvironment %+v", c, err, got)
				}
			}
		})
	}
}
