package faketeams

// Submit builds what Teams sends when a user clicks an Action.Submit
// button of the card in activity cardID: a message without text whose
// value is the button's data, replying to the card.
func (s *Server) Submit(cardID string, data any, opts ...ActivityOption) Activity {
	a := s.Message("", opts...)
	a.Text, a.TextFormat, a.ReplyToID, a.Value = "", "", cardID, data
	return a
}

// From sets who sent the activity, with their AAD object id.
func From(id, aadObjectID string) ActivityOption {
	return func(a *Activity) { a.From = &Account{ID: id, Name: "User " + id, AADObjectID: aadObjectID} }
}
