package xfake

import (
	"strings"
	"testing"
)

func TestQueryMatch(t *testing.T) {
	maria := User{ID: "1862954300111222333", Username: "mariagv_viajes"}
	dan := User{ID: "1298765432109876543", Username: "dan_okafor", Verified: true}
	complaint := &Post{ID: "10", AuthorID: maria.ID, Lang: "es",
		Text: "@PajaritoAir llevo 3 horas en Barajas y el PJ2471 sigue sin puerta. #PajaritoFail https://t.co/x"}
	quote := &Post{ID: "11", AuthorID: dan.ID, Lang: "en", Text: `"Minor delays" — two hours on the tarmac with Pajarito Air`,
		ReferencedTweets: []Ref{{Type: RefQuoted, ID: "1"}}}
	retweet := &Post{ID: "12", AuthorID: dan.ID, Lang: "en", Text: "RT @PajaritoAir: Heads-up: thunderstorms",
		ReferencedTweets: []Ref{{Type: RefRetweeted, ID: "1"}}}
	reply := &Post{ID: "13", AuthorID: maria.ID, Lang: "es", Text: "@PajaritoAir gracias", InReplyToUserID: "1590000000000000001",
		ReferencedTweets: []Ref{{Type: RefRepliedTo, ID: "2"}}}
	authors := map[string]User{maria.ID: maria, dan.ID: dan}

	cases := []struct {
		query string
		post  *Post
		want  bool
	}{
		{"barajas", complaint, true},
		{"BARAJAS", complaint, true},
		{"baraja", complaint, false}, // tokenised: no partial words
		{"pajaritoair", complaint, true},
		{"@pajaritoair", complaint, true},
		{"@pajaritoair", quote, false},
		{"#pajaritofail", complaint, true},
		{"#barajas", complaint, false},
		{`"sin puerta"`, complaint, true},
		{`"puerta sin"`, complaint, false},
		{`"pajarito air"`, quote, true},
		{`"minor delays"`, quote, true},
		{"pajarito air", quote, true}, // AND of two keywords
		{"pajarito barajas", quote, false},
		{"barajas OR tarmac", quote, true},
		{"barajas OR tarmac", complaint, true},
		{"barajas OR tarmac", retweet, false},
		{"@PajaritoAir -is:retweet", retweet, false},
		{"@PajaritoAir -is:retweet", complaint, true},
		{"@PajaritoAir is:retweet", retweet, true},
		{"(@PajaritoAir OR \"pajarito air\") -is:retweet lang:en", quote, true},
		{"(@PajaritoAir OR \"pajarito air\") -is:retweet lang:en", complaint, false},
		{"(@PajaritoAir OR \"pajarito air\") -is:retweet lang:es", complaint, true},
		{"tarmac is:quote", quote, true},
		{"@PajaritoAir is:reply", reply, true},
		{"@PajaritoAir is:reply", complaint, false},
		{"from:mariagv_viajes", complaint, true},
		{"from:@MariaGV_Viajes", reply, true},
		{"from:dan_okafor", complaint, false},
		{"from:1298765432109876543", quote, true},
		{"tarmac is:verified", quote, true},
		{"barajas has:links", complaint, true},
		{"gracias has:links", reply, false},
		{"gracias has:mentions -has:hashtags", reply, true},
		{"a OR b c", &Post{Text: "b"}, false}, // AND binds tighter: a OR (b c)
		{"a OR b c", &Post{Text: "b c"}, true},
		{"-(a OR b) c", &Post{Text: "c b"}, false},
		{"-(a OR b) c", &Post{Text: "c d"}, true},
		{"pajarito-air", &Post{Text: "Pajarito Air is late"}, true}, // punctuation inside: a phrase
		{"10:30", &Post{Text: "the 10:30 to Lima"}, true},
		{"conversation_id:7", &Post{Text: "x", ConversationID: "7"}, true},
	}
	for _, tc := range cases {
		q, err := ParseQuery(tc.query)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tc.query, err)
			continue
		}
		if got := q.Match(tc.post, authors[tc.post.AuthorID]); got != tc.want {
			t.Errorf("%q on %q = %v, want %v", tc.query, tc.post.Text, got, tc.want)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	cases := []struct {
		query, want string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{strings.Repeat("a ", 300), "maximum is 512"},
		{`"unterminated`, "unterminated"},
		{"(a OR b", "missing )"},
		{"a OR", "ends where a term"},
		{"OR a", "need a term before"},
		{"a )", "unexpected"},
		{"lang:es", "stand alone"},
		{"-pajarito", "stand alone"},
		{"is:retweet OR pajarito", "stand alone"},
		{"pajarito is:sensitive", "is:sensitive is not supported"},
		{"pajarito has:media", "has:media is not supported"},
		{"pajarito place:madrid", `invalid operator "place"`},
		{"pajarito lang:", "has no value"},
	}
	for _, tc := range cases {
		_, err := ParseQuery(tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseQuery(%.30q) = %v, want an error containing %q", tc.query, err, tc.want)
		}
	}
}
