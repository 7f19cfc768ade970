/*
 * Dialog tools shared by this package's edit dialogs, backed by the admin
 * routes under /saypro-integration-kit/ (nodes/common/editor-admin.ts):
 *
 *   preview.attach(node, opts)       a sample-message box and a Preview button
 *                                    (field mapper, format encoder, encrypt, HTTP POST)
 *   generateKey.attach(node, input)  a "Generate key" button beside a key field
 *                                    (encrypt, decrypt)
 *   testConnection.attach(node)      a probe path and a "Test connection" button
 *                                    (endpoint)
 *
 * Texts come from the node's own catalogue: keys under `tools.*`, present in
 * each catalogue that uses a tool. Node-RED serves this file at
 * resources/@saypro/node-red-integration-kit/editor-tools.js.
 */
(function () {
  var ROOT = 'saypro-integration-kit/';

  /** Sample events, as the examples' platform sends them (the node's last input is preferred). */
  var SAMPLES = {
    'listing.created': {
      event: {
        id: 'evt_sample_listing',
        type: 'listing.created',
        occurredAt: '2026-01-01T12:00:00.000Z',
        source: 'platform',
      },
      payload: {
        listingId: 'L-1001',
        title: 'Red bicycle, barely used',
        price: '149.90',
        currency: 'usd',
        seller: { name: 'Ada', email: 'ada@example.com' },
      },
    },
    'user.registered': {
      event: {
        id: 'evt_sample_user',
        type: 'user.registered',
        occurredAt: '2026-01-01T12:00:00.000Z',
        source: 'platform',
      },
      payload: {
        userId: 'U-42',
        email: 'grace@example.com',
        firstName: 'Grace',
        lastName: 'Hopper',
        phone: '+15550100',
      },
    },
    'payment.completed': {
      event: {
        id: 'evt_sample_payment',
        type: 'payment.completed',
        occurredAt: '2026-01-01T12:00:00.000Z',
        source: 'platform',
      },
      payload: {
        paymentId: 'P-7',
        amount: '25.00',
        currency: 'usd',
        orderId: 'O-9',
        listing: { id: 'L-1001', title: 'Red bicycle' },
        buyer: { name: 'Alan', phone: '+15550101' },
      },
    },
  };

  function post(path, body) {
    return $.ajax({
      url: ROOT + path,
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify(body || {}),
      dataType: 'json',
    });
  }

  function failText(xhr) {
    var e = xhr && xhr.responseJSON && xhr.responseJSON.error;
    return e ? e.message : xhr && xhr.status ? 'HTTP ' + xhr.status : 'no answer from Node-RED';
  }

  /**
   * The dialog's current settings: each property of the node's defaults
   * (and credentials) from its input, else the saved value. `prefix`:
   * 'node-input-' (nodes) or 'node-config-input-' (config nodes).
   */
  function readDialog(node, prefix) {
    var config = {};
    var credentials = {};
    Object.keys(node._def.defaults || {}).forEach(function (k) {
      var el = $('#' + prefix + k);
      if (!el.length) {
        config[k] = node[k];
        return;
      }
      config[k] = el.is(':checkbox') ? el.prop('checked') : el.val();
    });
    Object.keys(node._def.credentials || {}).forEach(function (k) {
      var el = $('#' + prefix + k);
      if (el.length) {
        credentials[k] = el.val();
      }
    });
    return { config: config, credentials: credentials };
  }

  /** A saved config node (e.g. the HTTP POST node's endpoint) as the preview route takes it. */
  function configNode(id) {
    var n = id && RED.nodes.node(id);
    if (!n) {
      return undefined;
    }
    var config = {};
    Object.keys(n._def.defaults || {}).forEach(function (k) {
      config[k] = n[k];
    });
    return { id: n.id, config: config, credentials: $.extend({}, n.credentials || {}) };
  }

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return text;
    }
  }

  function headerLines(headers) {
    return Object.keys(headers || {})
      .map(function (k) {
        return k + ': ' + headers[k];
      })
      .join('\n');
  }

  /** The preview route's answer as text for the output box. */
  function render(node, r) {
    if (!r.ok) {
      var lines = ['✖ ' + r.error.message];
      (r.error.details || []).forEach(function (d) {
        lines.push('  • ' + (d.field ? d.field + ': ' : '') + d.reason);
      });
      return lines.join('\n');
    }
    var cut = r.truncated ? '\n… ' + node._('tools.preview.truncated') : '';
    switch (r.kind) {
      case 'mapped':
        return JSON.stringify(r.value, null, 2);
      case 'encoded':
        return 'Content-Type: ' + r.contentType + '\n(' + r.bytes + ' bytes)\n\n' + r.body + cut;
      case 'encrypted':
        return headerLines(r.headers) + '\n\n' + pretty(r.payload);
      case 'request':
        return (
          r.method +
          ' ' +
          r.url +
          '\n' +
          headerLines(r.headers) +
          '\n\n' +
          (r.body === null
            ? node._('tools.preview.noBody')
            : (r.bodyEncoding === 'base64' ? '(base64) ' : '') + r.body) +
          cut
        );
    }
    return JSON.stringify(r, null, 2);
  }

  var preview = {
    SAMPLES: SAMPLES,
    render: render,
    /**
     * Adds the preview box at the end of the dialog. opts.type: the node
     * type; opts.extra(): settings read from lists (rules, headers);
     * opts.endpoint(): the chosen endpoint config node's id (HTTP POST).
     */
    attach: function (node, opts) {
      var box = $('<div class="saypro-preview" style="margin-top:16px; max-width:100%;"></div>').appendTo(
        '#dialog-form',
      );
      var head = $(
        '<div class="form-row" style="display:flex; gap:6px; align-items:center; flex-wrap:wrap;"></div>',
      ).appendTo(box);
      $('<label style="width:auto; margin:0;"></label>')
        .html('<i class="fa fa-eye"></i> ')
        .append($('<span>').text(node._('tools.preview.title')))
        .appendTo(head);
      var source = $(
        '<select class="saypro-preview-source" style="width:auto; flex:1; min-width:0;"></select>',
      ).appendTo(head);
      var run = $('<button type="button" class="red-ui-button saypro-preview-run"></button>')
        .text(node._('tools.preview.run'))
        .appendTo(head);
      var sample = $(
        '<textarea class="saypro-preview-sample" rows="6" spellcheck="false" style="width:100%; box-sizing:border-box; font-family:monospace; font-size:12px;"></textarea>',
      ).appendTo($('<div class="form-row"></div>').appendTo(box));
      var out = $(
        '<pre class="saypro-preview-output" style="display:none; white-space:pre-wrap; word-break:break-all; max-height:320px; overflow:auto; font-size:12px;"></pre>',
      ).appendTo(box);
      var last;

      function options() {
        source.empty();
        if (last) {
          $('<option value="last">').text(node._('tools.preview.lastInput')).appendTo(source);
        }
        Object.keys(SAMPLES).forEach(function (t) {
          $('<option>')
            .val(t)
            .text(node._('tools.preview.sample', { type: t }))
            .appendTo(source);
        });
      }
      function fill() {
        var v = source.val();
        sample.val(JSON.stringify(v === 'last' ? last : SAMPLES[v], null, 2));
      }
      source.on('change', fill);
      options();
      fill();
      $.getJSON(ROOT + 'last-input/' + encodeURIComponent(node.id))
        .done(function (r) {
          if (!r || !r.msg) {
            return;
          }
          last = r.msg;
          options();
          source.val('last');
          fill();
        })
        .fail(function () {
          /* nothing received since deploy: the samples stay */
        });

      run.on('click', function () {
        var msg;
        try {
          msg = JSON.parse(sample.val());
        } catch (e) {
          out
            .show()
            .css('color', 'var(--red-ui-text-color-error, #d00)')
            .text('✖ ' + node._('tools.preview.badSample', { reason: e.message }));
          return;
        }
        var current = readDialog(node, 'node-input-');
        var body = {
          type: opts.type,
          id: node.id,
          config: $.extend(current.config, opts.extra ? opts.extra() : {}),
          credentials: current.credentials,
          msg: msg,
        };
        if (opts.endpoint) {
          body.endpoint = configNode(opts.endpoint());
        }
        out.show().css('color', '').text(node._('tools.preview.working'));
        post('preview', body)
          .done(function (r) {
            out.css('color', r.ok ? '' : 'var(--red-ui-text-color-error, #d00)').text(render(node, r));
          })
          .fail(function (xhr) {
            out.css('color', 'var(--red-ui-text-color-error, #d00)').text('✖ ' + failText(xhr));
          });
      });
      return box;
    },
  };

  var generateKey = {
    /** Adds a "Generate key" button under the key input (selector); the key is shown once, then kept as the credential. */
    attach: function (node, input) {
      var row = $('<div class="form-row saypro-generate-key-row"><label></label></div>').insertAfter(
        $(input).closest('.form-row'),
      );
      var button = $('<button type="button" class="red-ui-button saypro-generate-key"></button>')
        .html('<i class="fa fa-random"></i> ')
        .append($('<span>').text(node._('tools.key.generate')))
        .appendTo(row);
      var shown = $(
        '<div class="form-tips saypro-generated-key" style="display:none; margin-top:6px; max-width:100%; box-sizing:border-box; word-break:break-all;"></div>',
      ).appendTo(row);
      button.on('click', function () {
        post('generate-key')
          .done(function (r) {
            $(input).val(r.key).trigger('change');
            shown
              .empty()
              .show()
              .append($('<div>').text(node._('tools.key.shownOnce')))
              .append(
                $(
                  '<code class="saypro-generated-key-value" style="display:block; user-select:all; white-space:normal; word-break:break-all; overflow-wrap:anywhere;"></code>',
                ).text(r.key),
              );
          })
          .fail(function (xhr) {
            shown.show().text('✖ ' + failText(xhr));
          });
      });
      return row;
    },
  };

  var testConnection = {
    /** Adds a probe path and a "Test connection" button at the end of `container` (the endpoint dialog's first tab). */
    attach: function (node, container) {
      var box = $('<div class="saypro-test-connection" style="margin-top:12px;"></div>').appendTo(container);
      var row = $('<div class="form-row"></div>').appendTo(box);
      $('<label for="saypro-endpoint-probe-path"></label>')
        .html('<i class="fa fa-stethoscope"></i> ')
        .append($('<span>').text(node._('tools.connection.probePath')))
        .appendTo(row);
      var probe = $('<input type="text" id="saypro-endpoint-probe-path" style="width:70%;">')
        .attr('placeholder', node._('tools.connection.probePlaceholder'))
        .appendTo(row);
      var row2 = $('<div class="form-row"><label></label></div>').appendTo(box);
      var button = $('<button type="button" class="red-ui-button saypro-test-connection-run"></button>')
        .text(node._('tools.connection.run'))
        .appendTo(row2);
      var out = $(
        '<ul class="saypro-test-connection-result" style="display:none; list-style:none; margin:6px 0 0 0;"></ul>',
      ).appendTo(box);
      button.on('click', function () {
        var current = readDialog(node, 'node-config-input-');
        // the dialog's header list is read when it is saved; until then use what it holds
        var headers = [];
        $('#node-config-input-saypro-endpoint-headers')
          .editableList('items')
          .each(function () {
            var name = $(this).find('.node-input-ep-header-name').val();
            if (name) {
              headers.push({ name: name, value: $(this).find('.node-input-ep-header-value').val() });
            }
          });
        current.config.headers = headers;
        out
          .show()
          .empty()
          .append($('<li>').text(node._('tools.connection.working')));
        post('test-connection', {
          id: node.id,
          config: current.config,
          credentials: current.credentials,
          path: probe.val(),
        })
          .done(function (r) {
            out.empty();
            r.steps.forEach(function (s) {
              $('<li>')
                .attr('data-step', s.step)
                .css('color', s.ok ? '' : 'var(--red-ui-text-color-error, #d00)')
                .append($('<i class="fa">').addClass(s.ok ? 'fa-check' : 'fa-times'))
                .append(' ')
                .append($('<b>').text(node._('tools.connection.step.' + s.step)))
                .append(' ')
                .append($('<span>').text(s.text))
                .appendTo(out);
            });
            $('<li class="saypro-test-connection-summary">')
              .css('font-weight', 'bold')
              .text(r.ok ? node._('tools.connection.works') : r.summary)
              .appendTo(out);
          })
          .fail(function (xhr) {
            out.empty().append($('<li>').text('✖ ' + failText(xhr)));
          });
      });
      return box;
    },
  };

  var kit = window.SayProIntegrationKit || {};
  kit.preview = preview;
  kit.generateKey = generateKey;
  kit.testConnection = testConnection;
  kit.readDialog = readDialog;
  window.SayProIntegrationKit = kit;
})();
