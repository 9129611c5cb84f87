// Package demo embeds the demo's default world file, examples/demo/world.yaml,
// so the demo binary runs from any directory.
package demo

import _ "embed"

// World is the content of world.yaml.
//
//go:embed world.yaml
var World []byte
