package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"switchboard"
)

// AsyncSchemas are the payload schemas of every message of one AsyncAPI contract (openapi/asyncapi), by
// message name: WebSocket tests check each message they send and receive against its schema, as Do checks
// every HTTP response against its OpenAPI contract.
type AsyncSchemas map[string]*jsonschema.Schema

var asyncContracts sync.Map // name → AsyncSchemas, compiled once per test binary

// AsyncAPI answers the message schemas of openapi/asyncapi/<name>.yaml, the file the binary embeds.
func AsyncAPI(t testing.TB, name string) AsyncSchemas {
	t.Helper()
	if s, ok := asyncContracts.Load(name); ok {
		return s.(AsyncSchemas)
	}
	s, err := loadAsyncAPI(name)
	if err != nil {
		t.Fatalf("asyncapi %s: %v", name, err)
	}
	asyncContracts.Store(name, s)
	return s
}

func loadAsyncAPI(name string) (AsyncSchemas, error) {
	raw, err := fs.ReadFile(switchboard.Contracts, "openapi/asyncapi/"+name+".yaml")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	url := "https://switchboard.test/" + name + ".json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, parsed); err != nil {
		return nil, err
	}
	out := AsyncSchemas{}
	components, _ := doc["components"].(map[string]any)
	msgs, _ := components["messages"].(map[string]any)
	for msgName, m := range msgs {
		payload, _ := m.(map[string]any)["payload"].(map[string]any)
		ref, ok := payload["$ref"].(string)
		if !ok {
			return nil, fmt.Errorf("message %s: payload is not a $ref", msgName)
		}
		s, err := c.Compile(url + ref)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", msgName, err)
		}
		out[msgName] = s
	}
	return out, nil
}

// Check validates one message (JSON text) against the payload schema of message name.
func (s AsyncSchemas) Check(name string, msg []byte) error {
	schema, ok := s[name]
	if !ok {
		return fmt.Errorf("the contract has no message %s", name)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	return schema.Validate(v)
}
