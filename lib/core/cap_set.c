// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The capabilities a session runs (see cap_set.h). */
#include <errno.h>
#include <string.h>

#include "core/cap_set.h"
#include "goprof/error.h"

int gp_caps_validate(const struct goprof_session_opts *opts, uint32_t features)
{
	int err = 0;

	for (size_t i = 0; !err && gp_capabilities[i]; i++)
		if (gp_capabilities[i]->validate)
			err = gp_capabilities[i]->validate(opts, features);
	return err;
}

static bool created(const struct gp_cap_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->slot[i].ops->name, name))
			return true;
	return false;
}

int gp_caps_create(struct gp_cap_set *set, const struct gp_host *h)
{
	set->host = h;
	for (size_t i = 0; gp_capabilities[i]; i++) {
		const struct gp_cap_ops *ops = gp_capabilities[i];
		void *state;

		if (ops->wanted ? !ops->wanted(h->features) : !(h->features & ops->features))
			continue;
		if (set->n == GP_MAX_CAPS)
			return gp_err(-E2BIG, "more capabilities than GP_MAX_CAPS");
		if (ops->take_record && ops->rec_last >= GP_REC_TYPES)
			return gp_err(-EINVAL, "capability %s: record type %u is not below "
					       "GP_REC_TYPES", ops->name, ops->rec_last);
		if (ops->needs && !created(set, ops->needs))
			return gp_err(-EINVAL, "capability %s needs %s, which this session does not "
					       "run before it", ops->name, ops->needs);
		state = ops->create(h);
		if (!state)
			return errno ? -errno : -ENOMEM;
		set->slot[set->n++] = (struct gp_cap_slot){ ops, state };
		for (uint32_t type = ops->rec_first; ops->take_record && type <= ops->rec_last; type++)
			if (!set->taker[type])
				set->taker[type] = (uint8_t)set->n;
	}
	return 0;
}

void gp_caps_destroy(struct gp_cap_set *set)
{
	while (set->n > 0) {
		set->n--;
		set->slot[set->n].ops->destroy(set->slot[set->n].state);
	}
}

/* Stops the first n, last first. */
static void stop_first(struct gp_cap_set *set, size_t n)
{
	while (n-- > 0)
		if (set->slot[n].ops->stop)
			set->slot[n].ops->stop(set->slot[n].state);
}

int gp_caps_start(struct gp_cap_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		int err = set->slot[i].ops->start ? set->slot[i].ops->start(set->slot[i].state) : 0;

		if (err) {
			stop_first(set, i);
			return err;
		}
	}
	return 0;
}

void gp_caps_stop(struct gp_cap_set *set)
{
	stop_first(set, set->n);
}

int gp_caps_tick(struct gp_cap_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++) {
		int ret = set->slot[i].ops->tick ? set->slot[i].ops->tick(set->slot[i].state, now_ns) : 0;

		if (ret < 0)
			return ret;
	}
	return 0;
}

const struct gp_cap_slot *gp_caps_record_taker(const struct gp_cap_set *set, uint32_t type)
{
	return type < GP_REC_TYPES && set->taker[type] ? &set->slot[set->taker[type] - 1] : NULL;
}

int gp_caps_sample(struct gp_cap_set *set, const struct gp_sample_event *ev)
{
	int ret = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->slot[i].ops->sample) {
			int r = set->slot[i].ops->sample(set->slot[i].state, ev);

			ret = ret < 0 ? ret : r;
		}
	return ret;
}

void gp_caps_process_added(struct gp_cap_set *set, const struct gp_process_view *p)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->slot[i].ops->process_added)
			set->slot[i].ops->process_added(set->slot[i].state, p);
}

void gp_caps_process_gone(struct gp_cap_set *set, uint32_t pid, enum gp_process_change why)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->slot[i].ops->process_gone)
			set->slot[i].ops->process_gone(set->slot[i].state, pid, why);
}

void gp_caps_fill_stats(struct gp_cap_set *set, struct goprof_session_stats *st,
			const uint64_t *lost)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->slot[i].ops->fill_stats)
			set->slot[i].ops->fill_stats(set->slot[i].state, st, lost);
}

const struct gp_host *gp_session_host(struct goprof_session *s)
{
	return ((const struct gp_cap_set *)(const void *)s)->host;
}

void *gp_session_cap(struct goprof_session *s, const struct gp_cap_ops *ops)
{
	const struct gp_cap_set *set = (const void *)s; /* the session's first member */

	for (size_t i = 0; s && i < set->n; i++)
		if (set->slot[i].ops == ops)
			return set->slot[i].state;
	return NULL;
}
