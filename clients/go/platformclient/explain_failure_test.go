package platformclient_test

import (
	"encoding/json"
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// Every case of clients/explain-failure.json: ExplainFailure returns its exact text for the run
// given in the proto's JSON mapping (docs/clients.md, "Why a run failed, in words").
func TestExplainFailureTable(t *testing.T) {
	data, err := os.ReadFile("../../explain-failure.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []struct {
			Name string          `json:"name"`
			Run  json.RawMessage `json:"run"`
			Text string          `json:"text"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			run := &platformv1.PipelineRun{}
			if err := protojson.Unmarshal(c.Run, run); err != nil {
				t.Fatal(err)
			}
			if got := platformclient.ExplainFailure(run); got != c.Text {
				t.Errorf("ExplainFailure =\n%q\nwant\n%q", got, c.Text)
			}
		})
	}
}
