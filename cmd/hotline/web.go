package main

import (
	"context"

	"hotline/assistant/httpapi"
	"hotline/assistant/web"
)

// mountWeb adds the public callback request form (/oddzwonienie) and the
// callbacks API (POST and GET /api/v1/callbacks, behind api.tokens) to
// srv. Both store through the same callback service as the in-call
// bookings and validate with the same rules.
func (a *app) mountWeb(ctx context.Context, srv *httpapi.Server) error {
	rules := web.Rules{CaseNumberMin: a.cfg.Dialog.CaseNumberMin, CaseNumberMax: a.cfg.Dialog.CaseNumberMax}
	form, err := web.New(ctx, web.Options{
		Redis: a.rdb, Prefix: a.cfg.Redis.Prefix, Slots: a.cbs, Rules: rules,
		Company: web.Company{Name: a.cfg.Company.Name},
		Logger:  a.log.With("component", "callback-form"),
	})
	if err != nil {
		return err
	}
	form.Mount(srv.Echo())
	srv.MountCallbacks(httpapi.CallbacksOptions{Store: a.cbs, Tokens: a.cfg.API.Tokens, Rules: rules})
	return nil
}
