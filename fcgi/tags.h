/*
 * Tags on VMs: words an admin puts on a VM ("web", "prod", "team-a") so
 * that the list can be filtered by them; everyone who sees the VM sees
 * them. Kept by the VM's uuid, as rights are: a VM defined again under
 * the same name is a new VM with no tags.
 */
#ifndef WEBKVM_FCGI_TAGS_H
#define WEBKVM_FCGI_TAGS_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define TAG_LEN_MAX 32
#define TAGS_PER_VM_MAX 16

/* 1 to TAG_LEN_MAX letters, digits, '-', '_' or '.', not starting with '-' or '.'. */
bool tag_valid(const char *tag);
/* Every VM's tags: an object from uuid to an array of its tags, sorted. NULL when the database fails. */
json_object *tags_all(sqlite3 *db);
/* One VM's tags, sorted: an array (empty when it has none or the database fails). */
json_object *tags_of(sqlite3 *db, const char *uuid);
/*
 * Give a VM exactly the tags in text (separated by commas or white
 * space; repeats count once), in one transaction. 0; -EINVAL with a
 * sentence in err; or -EIO.
 */
int tags_set(sqlite3 *db, const char *uuid, const char *text, char *err, size_t errlen);
/* Drop a VM's tags (it was deleted). */
void tags_forget(sqlite3 *db, const char *uuid);

#endif
