package file

// SetControllerName makes the worlds w publishes answer to the GatewayClass
// controllerName name (causeway serve --controller-name; empty:
// model.DefaultControllerName). Call it before Load.
func (w *Watcher) SetControllerName(name string) { w.l.controllerName = name }
