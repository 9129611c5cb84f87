package model

// WithControllerName returns s answering to the GatewayClass controllerName
// name (empty: DefaultControllerName), sharing everything else with s. It
// is for the sources that learn the name from a flag rather than from the
// world (causeway serve and translate --controller-name).
func (s *Snapshot) WithControllerName(name string) *Snapshot {
	if name == "" {
		name = DefaultControllerName
	}
	if name == s.controllerName {
		return s
	}
	t := *s
	t.controllerName = name
	return &t
}
