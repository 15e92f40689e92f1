package main

import (
	"testing"

	"github.com/pajarito-care/pajarito/shared/agentapi"
)

// TestParseTeam reads --team, and refuses what is not id=role.
func TestParseTeam(t *testing.T) {
	team, err := parseTeam(" ana=agent, beto=Agent,carla=contributor ,")
	if err != nil || len(team) != 3 {
		t.Fatalf("parseTeam = %+v, %v", team, err)
	}
	if a := team[0]; a.ID != "ana" || a.Name != "Ana" || a.Role != agentapi.RoleAgent || len(a.Token) != 32 || a.Token == team[1].Token {
		t.Errorf("ana = %+v; want Ana, an agent, with a token of her own", a)
	}
	if team[2].Role != agentapi.RoleContributor {
		t.Errorf("carla = %+v, want a contributor", team[2])
	}
	for _, bad := range []string{"ana", "ana=boss", "=agent", "a b=agent", "ana=agent,beto"} {
		if _, err := parseTeam(bad); err == nil {
			t.Errorf("parseTeam(%q) took it", bad)
		}
	}
	if team, err := parseTeam(""); err != nil || team != nil {
		t.Errorf("no --team: %+v, %v", team, err)
	}
}
