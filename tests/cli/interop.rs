//! rtok and the real npm CLI on the same Verdaccio account and the same
//! `.npmrc`: each sees and revokes what the other made.

use crate::support::*;
use crate::token_list::user_with_tokens;

fn npm_create(env: &TestEnv, user: &User) -> String {
    let run = env
        .npm()
        .args(["token", "create", "--json", "--password", &user.password])
        .run();
    run.success();
    let token = run.json()["token"]
        .as_str()
        .expect("npm printed a token")
        .to_string();
    env.register_secret(&token);
    token
}

#[test]
fn rtok_and_npm_list_the_same_tokens_with_the_same_ids() {
    let (user, env, _) = user_with_tokens("interoplist", 2);
    npm_create(&env, &user);
    npm_create(&env, &user);

    let ours = env.rtok().args(["token", "list", "--json"]).run();
    ours.success();
    let theirs = env.npm().args(["token", "list", "--json"]).run();
    theirs.success();
    assert_eq!(ours.json().as_array().map(Vec::len), Some(4));
    // Same objects, same order, same short ids, field for field.
    assert_eq!(ours.json(), theirs.json());
}

#[test]
fn rtok_revokes_what_npm_created() {
    let (user, env, _) = user_with_tokens("interopnpm", 0);
    let by_value = npm_create(&env, &user);
    npm_create(&env, &user);
    let run = env
        .rtok()
        .args(["token", "rm", &by_value])
        .allow_secret(&by_value)
        .run();
    run.success();
    let theirs = env.npm().args(["token", "list", "--json"]).run();
    theirs.success();
    let left = theirs.json();
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert!(!rtok::tokens::mask::mask_matches(
        left[0]["token"].as_str().unwrap_or(""),
        &by_value
    ));
}

#[test]
fn npm_revokes_by_the_id_rtok_shows() {
    let (_user, env, _) = user_with_tokens("interoprtok", 2);
    let ours = env.rtok().args(["token", "list", "--json"]).run();
    ours.success();
    let id = ours.json()[0]["id"].as_str().expect("id").to_string();
    let key = ours.json()[0]["key"].as_str().expect("key").to_string();
    env.npm().args(["token", "revoke", &id]).run().success();
    let after = env.rtok().args(["token", "list", "--json"]).run();
    after.success();
    assert_eq!(after.json().as_array().map(Vec::len), Some(1));
    assert!(!after.stdout.contains(&key));
}
