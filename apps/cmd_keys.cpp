// `bulwark keygen`, `bulwark head` and `bulwark verify --head`: a node's Ed25519 key and
// signed heads that an auditor checks offline against a journal copy.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "messages/error.hpp"
#include "persistence/ed25519.hpp"
#include "persistence/head_codec.hpp"

namespace bulwark::cli {

namespace {

int run_keygen(const std::string& out) {
  auto key = ed25519_key::generate();
  if (!key)
    return fail(key.error());
  if (auto err = key->write_private(out))
    return fail(err);
  if (auto err = key->write_public(out + ".pub"))
    return fail(err);
  auto raw = key->raw_public();
  std::cout << "private key " << out << " (mode 0600)\npublic key " << out << ".pub ("
            << to_hex(raw.data(), raw.size()) << ")\n";
  return exit_ok;
}

struct head_args {
  std::string data;
  std::string key;
  std::string node_id = "node";
  uint64_t term = 1;
  std::string out;
};

int run_head(const head_args& args) {
  install_fault_handler();
  if (!is_valid_id(args.node_id)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --node-id \"%s\" is not 1-128 printable "
                 "characters without spaces\n", args.node_id.c_str());
    return exit_usage;
  }
  auto key = ed25519_key::load_private(args.key);
  if (!key)
    return fail(key.error());
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  signed_head head;
  head.node_id = args.node_id;
  head.term = args.term;
  head.seq = store->head();
  head.chain = store->head_chain();
  head.at = caf::make_timestamp();
  if (auto err = sign_head(*key, head))
    return fail(err);
  auto text = to_head_file(head);
  if (args.out.empty()) {
    std::cout << text;
    return exit_ok;
  }
  std::ofstream f{args.out, std::ios::trunc};
  if (!(f << text) || !f.flush()) {
    std::fprintf(stderr, "bulwark: UNAVAILABLE: %s: cannot write the head\n", args.out.c_str());
    return exit_runtime;
  }
  std::cout << "head of " << head.node_id << ": seq " << head.seq.value << " chain "
            << to_hex(head.chain) << " written to " << args.out << '\n';
  return exit_ok;
}

caf::expected<signed_head> read_head_file(const std::string& path) {
  std::ifstream f{path};
  if (!f)
    return refuse(ec::invalid_input, path + ": cannot read the head file");
  std::ostringstream text;
  text << f.rdbuf();
  auto head = parse_head_file(text.str());
  if (!head)
    return refuse(ec::invalid_input, path + ": " + describe(head.error()).message);
  return head;
}

} // namespace

int run_verify_head(const std::string& data, const std::string& head_file,
                    const std::string& pubkey_file) {
  install_fault_handler();
  auto head = read_head_file(head_file);
  if (!head)
    return fail(head.error());
  auto key = ed25519_key::load_public(pubkey_file);
  if (!key)
    return fail(key.error());
  if (auto err = verify_head(*key, *head))
    return fail(err);
  int code = exit_ok;
  auto store = open_read_only(data, code);
  if (!store)
    return code;
  if (store->head() < head->seq) {
    std::cout << "INTEGRITY VIOLATION: the journal ends at seq " << store->head().value
              << ", the head names seq " << head->seq.value << '\n';
    return exit_integrity;
  }
  // The whole prefix is walked, so a copy edited below the head cannot pass.
  auto report = store->verify(seq_no{1}, head->seq, 2);
  if (!report.ok) {
    std::cout << "INTEGRITY VIOLATION at seq " << report.first_bad.value << ": "
              << report.reason << '\n';
    return exit_integrity;
  }
  auto chain = store->chain_at(head->seq);
  if (!chain)
    return fail(chain.error());
  if (*chain != head->chain) {
    std::cout << "INTEGRITY VIOLATION: at seq " << head->seq.value << " the journal holds chain "
              << to_hex(*chain) << ", node " << head->node_id << " signed "
              << to_hex(head->chain) << '\n';
    return exit_integrity;
  }
  std::cout << "matches: node " << head->node_id << " (term " << head->term << ") signed seq "
            << head->seq.value << " chain " << to_hex(head->chain)
            << "; the journal holds it and the signature checks\n";
  return exit_ok;
}

void add_key_commands(CLI::App& app, int& code) {
  auto out = std::make_shared<std::string>();
  auto* keygen = app.add_subcommand("keygen", "Create a node's Ed25519 key pair (FILE and "
                                              "FILE.pub)");
  keygen->add_option("--out", *out, "Private key file (created with mode 0600)")->required();
  keygen->callback([out, &code] { code = run_keygen(*out); });

  auto ha = std::make_shared<head_args>();
  auto* head = app.add_subcommand("head", "Sign the journal's head with a node key");
  head->add_option("--data", ha->data, "Journal directory")->required();
  head->add_option("--key", ha->key, "Private key file (from bulwark keygen)")->required();
  head->add_option("--node-id", ha->node_id, "Node id to sign as (default: node)");
  head->add_option("--term", ha->term, "Leadership term (default: 1)");
  head->add_option("--out", ha->out, "Write the head file here (default: stdout)");
  head->callback([ha, &code] { code = run_head(*ha); });
}

} // namespace bulwark::cli
